"""organizations.coverage: the live state of every 两新组织 unit; coverage figures are computed
from these rows (enterprises/coverage.py) when asked, so they can never drift from the units they
count. Figures for past dates are folded from the log instead (enterprises/figures.py). The rows
come from coverage_rows.py, shared with the rebuild fold (coverage_rebuild.py)."""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Boolean, Column, Date, Index, Integer, String, select
from sqlalchemy.engine import Connection

from shared.catalog.enterprises import EnterpriseEvent, EnterpriseRegistered
from shared.db import upsert
from shared.envelope import StoredEvent
from shared.projection import Projection
from services.organizations.enterprises.domain import Enterprise
from services.organizations.enterprises.projections.coverage_rebuild import CoverageRebuild
from services.organizations.enterprises.projections.coverage_rows import row_from_state, state_from_row

EVENT_TYPES = frozenset({"EnterpriseRegistered", "EnterpriseHeadcountUpdated", "EnterpriseClosed",
                         "EnterpriseReopened", "EnterpriseBranchFounded", "InstructorAssigned",
                         "InstructorWithdrawn", "MassOrganizationEstablished"})


class CoverageProjection(Projection):
    name = "organizations.coverage"
    subjects = ("org.enterprise.>",)
    handles = EVENT_TYPES

    def define_tables(self) -> None:
        self.units = self.table(
            "org_enterprise",
            Column("county", String(6), primary_key=True), Column("enterprise_id", String(64), primary_key=True),
            Column("uscc", String(18), nullable=False), Column("name", String(100), nullable=False),
            Column("unit_type", String(24), nullable=False), Column("township_id", String(64)),
            Column("industry", String(40)), Column("employees", Integer, nullable=False),
            Column("full_members", Integer, nullable=False), Column("probationary_members", Integer, nullable=False),
            Column("status", String(16), nullable=False), Column("fixed_premises", Boolean, nullable=False),
            Column("above_scale", Boolean, nullable=False), Column("registered_on", Date, nullable=False),
            Column("organization_id", String(64)), Column("founding_mode", String(16)),
            Column("instructor_name", String(40)), Column("instructor_role", String(12)),
            Column("mass_organizations", String(60), nullable=False, default=""),
            Index(f"ix_org_enterprise_uscc{self.suffix}", "county", "uscc"))

    def apply(self, conn: Connection, county: str, events: Sequence[StoredEvent]) -> None:
        units: dict[str, Enterprise] = {}
        touched = sorted({ev.event.enterprise_id for ev in events if not isinstance(ev.event, EnterpriseRegistered)})
        for start in range(0, len(touched), 500):
            rows = conn.execute(select(self.units).where(self.units.c.county == county,
                                                         self.units.c.enterprise_id.in_(touched[start:start + 500])))
            for row in rows:
                units[row.enterprise_id] = Enterprise.from_snapshot(state_from_row(row))
        for ev in events:
            e = ev.event
            if not isinstance(e, EnterpriseEvent):
                continue
            unit = units.get(e.enterprise_id)
            if unit is None:
                if not isinstance(e, EnterpriseRegistered):
                    continue
                unit = units[e.enterprise_id] = Enterprise(e.enterprise_id)
            unit.apply(e)
        upsert(conn, self.units, [row_from_state(county, u.snapshot()) for u in units.values()],
               ["county", "enterprise_id"])

    def rebuild_fold(self, conn: Connection, county: str) -> CoverageRebuild:
        return CoverageRebuild(self, conn, county)
