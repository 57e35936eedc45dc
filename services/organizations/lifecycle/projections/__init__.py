"""The lifecycle has no read-model of its own: its events change the organization rows of
organizations.registry (registry/projections/registry_rows.py: names, types, parents, status, terms)."""
