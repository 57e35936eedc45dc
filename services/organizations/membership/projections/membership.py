"""organizations.membership: the 党籍异动 ledger, one row per change of standing (a member's current
standing is the registry's `org_member_standing`; this keeps every change, e.g. a suspension and its
restoration, and where the member was when it happened)."""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Column, Date, Integer, String
from sqlalchemy.engine import Connection

from shared.envelope import StoredEvent
from shared.projection import Projection


class MembershipProjection(Projection):
    name = "organizations.membership"
    subjects = ("org.member.>",)
    handles = frozenset({"MemberStandingChanged"})

    def define_tables(self) -> None:
        self.changes = self.table(
            "org_standing_change", Column("county", String(6), primary_key=True),
            Column("seq", Integer, primary_key=True), Column("member_id", String(64), nullable=False, index=True),
            Column("standing", String(16), nullable=False), Column("previous", String(16), nullable=False),
            Column("changed_on", Date, nullable=False), Column("reason", String(200), nullable=False),
            Column("decided_by", String(40), nullable=False), Column("branch_id", String(64)))

    def apply(self, conn: Connection, county: str, events: Sequence[StoredEvent]) -> None:
        rows = [{"county": county, "seq": ev.seq, "member_id": ev.event.member_id, "standing": ev.event.standing,
                 "previous": ev.event.previous, "changed_on": ev.event.changed_on, "reason": ev.event.reason,
                 "decided_by": ev.event.decided_by, "branch_id": ev.event.branch_id} for ev in events]
        if rows:
            conn.execute(self.changes.insert(), rows)
