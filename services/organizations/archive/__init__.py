"""The county log's second copy (audit.archive) and its comparison with the stream (shared/archive.py)."""
