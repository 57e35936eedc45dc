"""organizations.mobile: each member's current (or last) mobile record — away, mobile or returned —
and the county's service points. A new departure after a return replaces the member's row."""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Column, Date, Integer, String, select
from sqlalchemy.engine import Connection

from shared.catalog import mobile as m
from shared.db import upsert
from shared.envelope import StoredEvent
from shared.projection import Projection


class MobileProjection(Projection):
    name = "organizations.mobile"
    subjects = ("org.mobile.>", "org.service_point.>")
    handles = frozenset({"MemberAwayRecorded", "MobileMemberRegistered", "MobileMemberReturned",
                         "ServicePointRegistered", "ServicePointClosed"})

    def define_tables(self) -> None:
        t = self.table
        self.records = t(
            "org_mobile_member", Column("county", String(6), primary_key=True),
            Column("member_id", String(64), primary_key=True), Column("status", String(12), nullable=False),
            Column("away_since", Date, nullable=False), Column("destination", String(60), nullable=False),
            Column("contact", String(60)), Column("receiving_organization", String(80)),
            Column("service_point_id", String(64)), Column("registered_on", Date), Column("returned_on", Date),
            Column("branch_id", String(64), nullable=False), Column("seq", Integer, nullable=False))
        self.points = t(
            "org_service_point", Column("county", String(6), primary_key=True),
            Column("service_point_id", String(64), primary_key=True), Column("name", String(80), nullable=False),
            Column("location", String(60), nullable=False), Column("host", String(80), nullable=False),
            Column("contact", String(60), nullable=False), Column("opened_on", Date, nullable=False),
            Column("closed_on", Date), Column("close_reason", String(200)), Column("seq", Integer, nullable=False))

    def apply(self, conn: Connection, county: str, events: Sequence[StoredEvent]) -> None:
        records: dict[str, dict] = {}
        points: dict[str, dict] = {}
        for ev in events:
            e = ev.event
            if isinstance(e, (m.MemberAwayRecorded, m.MobileMemberRegistered)):
                records[e.member_id] = {
                    "county": county, "member_id": e.member_id, "away_since": e.away_since,
                    "destination": e.destination, "branch_id": e.branch_id, "seq": ev.seq, "returned_on": None,
                    "status": "away" if isinstance(e, m.MemberAwayRecorded) else "mobile",
                    **({"contact": e.contact, "receiving_organization": e.receiving_organization,
                        "service_point_id": e.service_point_id, "registered_on": e.registered_on}
                       if isinstance(e, m.MobileMemberRegistered) else
                       {"contact": None, "receiving_organization": None, "service_point_id": None,
                        "registered_on": None})}
            elif isinstance(e, m.MobileMemberReturned):
                row = records.get(e.member_id) or self._load(conn, self.records, county, "member_id", e.member_id)
                if row is not None:
                    records[e.member_id] = {**row, "status": "returned", "returned_on": e.returned_on}
            elif isinstance(e, m.ServicePointRegistered):
                points[e.service_point_id] = {"county": county, "seq": ev.seq, "closed_on": None,
                                              "close_reason": None, **e.model_dump()}
            elif isinstance(e, m.ServicePointClosed):
                row = points.get(e.service_point_id) or self._load(conn, self.points, county, "service_point_id",
                                                                   e.service_point_id)
                if row is not None:
                    points[e.service_point_id] = {**row, "closed_on": e.closed_on, "close_reason": e.reason}
        upsert(conn, self.records, list(records.values()), ["county", "member_id"])
        upsert(conn, self.points, list(points.values()), ["county", "service_point_id"])

    @staticmethod
    def _load(conn: Connection, table, county: str, key: str, value: str) -> dict | None:
        row = conn.execute(select(table).where(table.c.county == county, table.c[key] == value)).first()
        return dict(row._mapping) if row else None
