"""Mechanisms every dangjian service imports: event log, catalog, projections, db, settings, auth.

Nothing here holds one service's business rules (see docs/decisions/001-architecture.md).
"""
