"""Audit reads of the organizations service: an organization's status as of a business date as known at a
recorded time (status.py), and the county log's archive copy compared with the stream (shared/archive.py)."""
