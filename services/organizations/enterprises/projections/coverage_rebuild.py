"""The coverage read-model's rebuild fold: every unit's aggregate in memory for the whole replay, rows written
once at the end.

The live fold (coverage.apply) reads back the row of every unit a batch touches, rebuilds its aggregate,
folds the batch and upserts the rows: over a replay a unit's row is read and rewritten once per batch
holding one of its events. A county has a few thousand units (a few MB of aggregates), so here they stay
in memory and each row is written once (docs/decisions/007-rebuild-fold.md).

The result equals the live fold's: the same `Enterprise.apply` in log order, onto a state the live fold
would have read back unchanged from its row (the row keeps every field apply sets that a row shows).
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.engine import Connection

from services.organizations.enterprises.domain import Enterprise
from services.organizations.enterprises.projections.coverage_rows import row_from_state
from shared.catalog.enterprises import EnterpriseRegistered
from shared.db import insert_rows
from shared.envelope import StoredEvent


class CoverageRebuild:
    """Folds a replayed county log into a CoverageProjection's fresh, empty tables."""

    def __init__(self, p: Any, conn: Connection, county: str):  # p: the CoverageProjection whose fresh tables fill
        self.p, self.conn, self.county = p, conn, county
        self.units: dict[str, Enterprise] = {}

    def fold(self, events: Iterable[StoredEvent]) -> None:
        units = self.units
        for ev in events:
            e = ev.event
            unit = units.get(e.enterprise_id)
            if unit is None:
                if not isinstance(e, EnterpriseRegistered):
                    continue  # an event of a unit never registered is skipped, as live
                unit = units[e.enterprise_id] = Enterprise(e.enterprise_id)
            unit.apply(e)

    def finish(self) -> None:
        insert_rows(self.conn, self.p.units, [row_from_state(self.county, u.snapshot()) for u in self.units.values()])
