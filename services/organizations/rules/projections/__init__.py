"""The rules context has no read-model: the rule book is one aggregate per county, read from the log."""
