"""The archive: a second copy of every event of a county in an append-only SQL table (sequence, subject,
envelope, hash), and the comparison of the log with it (docs/decisions/016-audit-log.md).

JetStream is the system of record, but a damaged stream (Jepsen's NATS 2.12.1 findings: on-disk
corruption, losses on a minority of nodes) must be detectable and repairable: the archive projection
copies each event as it is stored — authenticated like every projection, so a forged event stops the
archive rather than enter it — and `dangjian audit compare` reports every sequence where the log and the
copy differ: missing from the archive, missing from the log, or different.
"""
from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

import orjson
from sqlalchemy import BigInteger, Column, String, Text, select
from sqlalchemy.engine import Connection

from shared.envelope import StoredEvent
from shared.projection import Projection

MAX_DIFFERENCES = 1000


class EveryType(frozenset):
    """`handles` of a projection that folds every event type, including types this code does not know."""

    def __contains__(self, item: object) -> bool:
        return True


class ArchiveProjection(Projection):
    name = "organizations.archive"  # hosted by the organizations service (dangjian rebuild C organizations.archive)
    handles = EveryType()
    keeps_unknown = True  # an event type this code cannot decode is archived all the same

    def define_tables(self) -> None:
        self.events = self.table(
            "audit_archive", Column("county", String(6), primary_key=True),
            Column("seq", BigInteger, primary_key=True, autoincrement=False), Column("subject", String(255)),
            Column("event_id", String(40)), Column("type", String(80)), Column("recorded_at", String(40)),
            Column("hash", String(64)), Column("envelope", Text))

    def apply(self, conn: Connection, county: str, events: Sequence[StoredEvent]) -> None:
        # insert only: a sequence is archived once (the checkpoint row commits with it), never rewritten
        conn.execute(self.events.insert(), [{
            "county": county, "seq": ev.seq, "subject": ev.subject, "event_id": ev.envelope["event_id"],
            "type": ev.envelope["type"], "recorded_at": ev.envelope["recorded_at"], "hash": ev.envelope["hash"],
            "envelope": orjson.dumps(ev.envelope).decode()} for ev in events])


def archived(conn: Connection, projection: ArchiveProjection, county: str, after: int, limit: int) -> list[Any]:
    t = projection.events.c
    return conn.execute(select(t.seq, t.subject, t.hash, t.envelope).where(t.county == county, t.seq > after)
                        .order_by(t.seq).limit(limit)).all()


async def compare(log: AsyncIterator[tuple[int, str, bytes]], rows: AsyncIterator[Any], upto: int) -> dict[str, Any]:
    """Walk the log and the archive side by side (both in sequence order) up to `upto`."""
    differences: list[dict[str, Any]] = []
    more, checked = 0, 0

    def differ(seq: int, kind: str, subject: str | None, detail: str) -> None:
        nonlocal more
        if len(differences) < MAX_DIFFERENCES:
            differences.append({"seq": seq, "kind": kind, "subject": subject, "detail": detail})
        else:
            more += 1

    row = await anext(rows, None)
    async for seq, subject, body in log:
        if seq > upto:
            break
        checked += 1
        while row is not None and row.seq < seq:
            differ(row.seq, "missing_in_log", row.subject, "archived, but not in the stream (lost or deleted)")
            row = await anext(rows, None)
        if row is None or row.seq > seq:
            differ(seq, "missing_in_archive", subject, "in the stream, not archived")
            continue
        if row.subject != subject or _parsed(row.envelope) != _parsed(body):
            differ(seq, "different", subject, "the stream's event differs from the archived copy (altered)")
        row = await anext(rows, None)
    while row is not None and row.seq <= upto:
        differ(row.seq, "missing_in_log", row.subject, "archived, but not in the stream (lost or deleted)")
        row = await anext(rows, None)
    return {"checked": checked, "upto": upto, "differences": differences, "more_differences": more}


def _parsed(data: str | bytes) -> Any:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return data
