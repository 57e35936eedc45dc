"""organizations.centres: the registry of 党群服务中心 (one row per centre with its facilities, last
inspection and plaque) and their yearly upgrade plans (one row per centre and year). Coverage is not
stored: it is folded from the log for the date asked (centres/figures.py), like 两新组织 coverage."""
from __future__ import annotations

from collections.abc import Sequence

import orjson
from sqlalchemy import Boolean, Column, Date, Integer, String, Text, select
from sqlalchemy.engine import Connection

from shared.catalog import centres as c
from shared.db import upsert
from shared.envelope import StoredEvent
from shared.projection import Projection

EVENT_TYPES = frozenset({"CentreRegistered", "CentreFacilitiesUpdated", "CentreInspected", "CentrePlaqued",
                         "CentrePlaqueRemoved", "CentreClosed", "CentreUpgradePlanned", "CentreUpgradeProgressed"})


class CentresProjection(Projection):
    name = "organizations.centres"
    subjects = ("org.centre.>",)
    handles = EVENT_TYPES
    schema_version = 2  # v2: closed_on, closed_reason (a closed centre stays listed, marked)

    def define_tables(self) -> None:
        t = self.table
        self.centres = t(
            "org_centre", Column("county", String(6), primary_key=True),
            Column("centre_id", String(64), primary_key=True), Column("name", String(80), nullable=False),
            Column("kind", String(8), nullable=False), Column("level", String(12), nullable=False),
            Column("township_id", String(64)), Column("organization_id", String(64)), Column("address", String(120)),
            Column("floor_area_m2", Integer, nullable=False), Column("zones", String(120), nullable=False),
            Column("windows", String(120), nullable=False), Column("signage", Boolean, nullable=False),
            Column("night_visible", Boolean, nullable=False), Column("opened_on", Date, nullable=False),
            Column("inspected_on", Date), Column("inspected_by", String(40)), Column("to_standard", Boolean,
                                                                                     nullable=False, default=False),
            Column("missing", Text), Column("plaqued_on", Date), Column("closed_on", Date), Column("closed_reason", Text))
        self.upgrades = t(
            "org_centre_upgrade", Column("county", String(6), primary_key=True),
            Column("centre_id", String(64), primary_key=True), Column("year", Integer, primary_key=True),
            Column("kind", String(10), nullable=False), Column("items", Text, nullable=False),
            Column("due_on", Date, nullable=False), Column("planned_on", Date, nullable=False),
            Column("percent", Integer, nullable=False, default=0), Column("note", Text), Column("reported_on", Date))

    def apply(self, conn: Connection, county: str, events: Sequence[StoredEvent]) -> None:
        centres: dict[str, dict] = {}
        plans: dict[tuple[str, int], dict] = {}
        for ev in events:
            e = ev.event
            if isinstance(e, (c.CentreUpgradePlanned, c.CentreUpgradeProgressed)):
                key = (e.centre_id, e.year)
                plan = plans.get(key) or self._load(conn, self.upgrades, county, e.centre_id, e.year) or {}
                plans[key] = {**plan, **_plan_changes(county, e)}
                continue
            row = centres.get(e.centre_id) or self._load(conn, self.centres, county, e.centre_id)
            if row is None and not isinstance(e, c.CentreRegistered):
                continue
            centres[e.centre_id] = {**(row or {}), **_centre_changes(county, e)}
        upsert(conn, self.centres, list(centres.values()), ["county", "centre_id"])
        upsert(conn, self.upgrades, list(plans.values()), ["county", "centre_id", "year"])

    def _load(self, conn: Connection, table, county: str, centre_id: str, year: int | None = None) -> dict | None:
        stmt = select(table).where(table.c.county == county, table.c.centre_id == centre_id)
        if year is not None:
            stmt = stmt.where(table.c.year == year)
        row = conn.execute(stmt).first()
        return dict(row._mapping) if row else None


def _facilities(e) -> dict:
    return {"floor_area_m2": e.floor_area_m2, "zones": ",".join(e.zones), "windows": ",".join(e.windows),
            "signage": e.signage, "night_visible": e.night_visible}


def _centre_changes(county: str, e) -> dict:
    if isinstance(e, c.CentreRegistered):
        return {"county": county, "centre_id": e.centre_id, "name": e.name, "kind": e.kind, "level": e.level,
                "township_id": e.township_id, "organization_id": e.organization_id, "address": e.address,
                "opened_on": e.opened_on, "to_standard": False, **_facilities(e)}
    if isinstance(e, c.CentreFacilitiesUpdated):
        return _facilities(e)
    if isinstance(e, c.CentreInspected):
        return {"inspected_on": e.inspected_on, "inspected_by": e.inspected_by, "to_standard": e.passed,
                "missing": ",".join(e.missing)}
    if isinstance(e, c.CentrePlaqued):
        return {"plaqued_on": e.plaqued_on}
    if isinstance(e, c.CentrePlaqueRemoved):
        return {"plaqued_on": None}
    if isinstance(e, c.CentreClosed):
        return {"closed_on": e.closed_on, "closed_reason": e.reason}
    return {}


def _plan_changes(county: str, e) -> dict:
    if isinstance(e, c.CentreUpgradePlanned):
        return {"county": county, "centre_id": e.centre_id, "year": e.year, "kind": e.kind,
                "items": orjson.dumps(list(e.items)).decode(), "due_on": e.due_on, "planned_on": e.planned_on, "percent": 0}
    return {"percent": e.percent, "note": e.note, "reported_on": e.reported_on}
