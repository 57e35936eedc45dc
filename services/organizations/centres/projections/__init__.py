"""The organizations.centres read-model: the centre registry and the upgrade plans."""
