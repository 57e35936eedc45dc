"""党籍 in the ratings service: whom it may score and whom the star distribution counts.

A member who died, left, was expelled, is suspended or whose probation was cancelled is not in good
standing (decision 017): no score is recorded for them, and from the change's effective date
(`changed_on`) they leave the distribution's counts. Ratings learns the standing from the registry's
`MemberStandingChanged` events in the county log, through a projection of its own (`ratings.standing`):
a new projection rather than columns of `ratings.stars`, so it is built from the start of the log on
its own (standing changes stored before it existed are folded) and the star tables keep their schema.

Every change is kept (a suspension may be restored): the standing on a day is the last change on or
before it. Changes are few, so each instance holds a county's in memory, loaded once; a change drops
it when stored (every instance hears it, like a transfer in directory.py) and again once folded."""
from __future__ import annotations

import asyncio
import contextlib
import threading
from bisect import bisect_right
from collections.abc import Sequence
from datetime import date

from sqlalchemy import Column, Date, Integer, String, select
from sqlalchemy.engine import Connection

from shared.catalog.membership import MemberStandingChanged
from shared.db import upsert
from shared.envelope import StoredEvent
from shared.errors import DomainError, FieldError
from shared.projection import Projection
from shared.routes import Context, Runtime

GOOD = "active"
NAMES = {"deceased": "已去世", "left": "已出党", "expelled": "已被开除党籍", "suspended": "停止党籍",
         "cancelled": "已取消预备党员资格"}
Changes = list[tuple[date, int, str]]  # (changed_on, seq, standing), in that order


class StandingProjection(Projection):
    name = "ratings.standing"
    subjects = ("org.member.>",)
    handles = frozenset({"MemberStandingChanged"})

    def __init__(self, suffix: str = ""):
        super().__init__(suffix)
        self.counties: dict[str, dict[str, Changes]] = {}
        self.generation = 0
        self._lock = threading.Lock()  # the projection thread drops, the event loop remembers

    def define_tables(self) -> None:
        self.changes = self.table("ratings_member_standing",
                                  Column("county", String(6), primary_key=True),
                                  Column("member_id", String(64), primary_key=True),
                                  Column("seq", Integer, primary_key=True),
                                  Column("standing", String(12), nullable=False),
                                  Column("changed_on", Date, nullable=False))

    def apply(self, conn: Connection, county: str, events: Sequence[StoredEvent]) -> None:
        rows = [{"county": county, "member_id": ev.event.member_id, "seq": ev.seq, "standing": ev.event.standing,
                 "changed_on": ev.event.changed_on} for ev in events if isinstance(ev.event, MemberStandingChanged)]
        upsert(conn, self.changes, rows, ["county", "member_id", "seq"])

    def after_commit(self, county: str, events: Sequence[StoredEvent]) -> None:
        self.forget(county)

    def forget(self, county: str) -> None:
        with self._lock:
            self.generation += 1
            self.counties.pop(county, None)

    def remember(self, county: str, changes: dict[str, Changes], generation: int) -> None:
        with self._lock:
            if generation == self.generation:
                self.counties[county] = changes

    def load(self, conn: Connection, county: str) -> dict[str, Changes]:
        c = self.changes.c
        found: dict[str, Changes] = {}
        for row in conn.execute(select(c.member_id, c.changed_on, c.seq, c.standing).where(c.county == county)
                                .order_by(c.changed_on, c.seq)):
            found.setdefault(row.member_id, []).append((row.changed_on, row.seq, row.standing))
        return found


def standing_on(changes: Changes | None, day: date | None = None) -> tuple[str, date | None]:
    """(standing, since) on `day` (None: the latest change, whatever its date)."""
    if not changes:
        return GOOD, None
    if day is None:
        latest = max(changes, key=lambda c: c[1])
        return latest[2], latest[0]
    i = bisect_right(changes, (day, float("inf"), ""))
    return (changes[i - 1][2], changes[i - 1][0]) if i else (GOOD, None)


async def county_changes(ctx: Context) -> dict[str, Changes]:
    p: StandingProjection = ctx.service.projection(StandingProjection)
    cached = p.counties.get(ctx.county)
    if cached is None:
        generation = p.generation

        def read() -> dict[str, Changes]:
            with ctx.service.engine.connect() as conn:
                return p.load(conn, ctx.county)
        cached = await asyncio.to_thread(read)
        p.remember(ctx.county, cached, generation)
    return cached


async def require_good_standing(ctx: Context, rated_kind: str, rated_id: str) -> None:
    """409 for a score of a member whose standing (as last changed) is not good."""
    if rated_kind != "member":
        return
    standing, since = standing_on((await county_changes(ctx)).get(rated_id))
    if standing != GOOD:
        message = (f"该党员{NAMES.get(standing, standing)}（{since}），不能记分 / member {rated_id} is not in good "
                   f"standing ({standing} since {since}): no score is recorded")
        raise DomainError("member_not_in_good_standing", message, 409, [FieldError("rated_id", message)])


async def forget_standing(service: Runtime, county: str, envelope: dict) -> None:
    """A standing changed: drop the county's changes now and once the read-model has folded it."""
    if envelope.get("type") != "MemberStandingChanged":
        return
    p: StandingProjection = service.projection(StandingProjection)
    p.forget(county)
    with contextlib.suppress(Exception):  # lagging read-model: the first drop stands
        await service.caught_up(county, await service.store.last_seq(county), projection=p.name)
    p.forget(county)
