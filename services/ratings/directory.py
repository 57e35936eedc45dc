"""Where a rated member or organization sits (branch, township), read from ratings' own directory
tables (folded from organizations' events in the same county log).

Every score needs its member's placement (scope checks, the township's scheme, the branch in the
event). Answers are cached: the first miss in a county loads the whole county directory with one
query (tens of thousands of rows, a few MB); later misses (members registered since) from
concurrent commands are gathered and answered by one `IN` query in a worker thread — one SELECT
and one thread hop per command was the service's largest cost under load. A member registered a moment ago may not be folded yet: on a
miss we wait until the projection has reached the end of the log once, then answer for certain.

A transfer drops the member's entry twice: when the event is stored (every instance hears it, see
`forget_transfer`) and once the read-model has applied it (in the instance that runs the projection
that is `after_commit`, elsewhere `forget_transfer` waits for it) — an answer read in between
cannot outlive the second drop."""
from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterable
from typing import Protocol

from sqlalchemy import Engine, Table, select

from shared.errors import not_found
from shared.rows import chunks
from shared.routes import Context, Runtime

Key = tuple[str, str, str]                # (county, rated kind, rated id)
Place = tuple[str | None, str | None]     # (branch, township)


class Placements:
    """The cache, bounded. A transfer folded by the projection drops its entry and bumps the
    generation, so a lookup that read the old row before the transfer committed is not cached."""

    def __init__(self, max_entries: int = 500_000):
        self.max_entries = max_entries
        self._entries: dict[Key, Place] = {}
        self._lock = threading.Lock()  # the projection thread invalidates, the event loop remembers
        self.generation = 0

    def get(self, key: Key) -> Place | None:
        return self._entries.get(key)

    def invalidate(self, key: Key) -> None:
        with self._lock:
            self.generation += 1
            self._entries.pop(key, None)

    def remember(self, found: dict[Key, Place], generation: int) -> None:
        with self._lock:
            if generation != self.generation:
                return
            for key, place in found.items():
                if len(self._entries) >= self.max_entries:
                    del self._entries[next(iter(self._entries))]
                self._entries[key] = place


class Directory(Protocol):
    """Where the directory lives: the star read-model (services/ratings/projections/stars.py) folds its
    tables and holds its cache."""

    name: str
    placements: Placements
    organizations: Table
    members: Table


class DirectoryReader:
    """Gathers cache misses and looks them up together (one query in flight at a time)."""

    def __init__(self, projection: Directory, engine: Engine):
        self.p, self.engine = projection, engine
        self._waiting: dict[Key, asyncio.Future] = {}
        self._worker: asyncio.Task | None = None
        self._warm: set[str] = set()  # counties whose whole directory was loaded once

    async def find(self, key: Key) -> Place | None:
        cached = self.p.placements.get(key)
        if cached is not None:
            return cached
        future = self._waiting.get(key)
        if future is None:
            future = self._waiting[key] = asyncio.get_running_loop().create_future()
            if self._worker is None or self._worker.done():
                self._worker = asyncio.create_task(self._work())
        return await asyncio.shield(future)

    async def _work(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, {}
            generation = self.p.placements.generation
            cold = {county for county, _, _ in batch} - self._warm
            self._warm |= cold
            try:
                found = await asyncio.to_thread(self._lookup, list(batch), cold)
            except Exception as exc:
                self._warm -= cold
                for future in batch.values():
                    if not future.done():
                        future.set_exception(exc)
                continue
            self.p.placements.remember(found, generation)
            for key, future in batch.items():
                if not future.done():
                    future.set_result(found.get(key))

    def _lookup(self, keys: Iterable[Key], whole: set[str]) -> dict[Key, Place]:
        members: dict[str, list[str]] = {}
        orgs: dict[str, list[str]] = {}
        for county, kind, rid in keys:
            if county not in whole:
                (members if kind == "member" else orgs).setdefault(county, []).append(rid)
        p = self.p
        o, m = p.organizations.c, p.members.c
        found: dict[Key, Place] = {}
        with self.engine.connect() as conn:
            # a member's township comes from the same statement as the member (one snapshot): read with
            # two, a batch committed in between showed members of a branch the first one had not seen,
            # and they were cached without a township (so scored under the county's scheme)
            placed = select(m.member_id, m.branch_id, o.township_id).select_from(
                p.members.outerjoin(p.organizations, (o.county == m.county) & (o.organization_id == m.branch_id)))
            for county in whole:
                found.update({(county, "organization", r[0]): (r[0], r[1]) for r in conn.execute(
                    select(o.organization_id, o.township_id).where(o.county == county))})
                found.update({(county, "member", r[0]): (r[1], r[2]) for r in conn.execute(
                    placed.where(m.county == county))})
            for county, ids in members.items():
                for part in chunks(ids):
                    rows = conn.execute(placed.where(m.county == county, m.member_id.in_(part)))
                    found.update({(county, "member", r[0]): (r[1], r[2]) for r in rows})
            for county, ids in orgs.items():
                for part in chunks(ids):
                    rows = conn.execute(select(o.organization_id, o.township_id).where(
                        o.county == county, o.organization_id.in_(part)))
                    found.update({(county, "organization", r[0]): (r[0], r[1]) for r in rows})
        return found


def _reader(ctx: Context, directory: Directory) -> DirectoryReader:
    reader = getattr(directory, "directory_reader", None)
    if reader is None:
        reader = directory.directory_reader = DirectoryReader(directory, ctx.service.engine)
    return reader


async def forget_transfer(service: Runtime, directory: Directory, county: str, envelope: dict) -> None:
    """A member changed branch: forget where they were, now and after the read-model has it."""
    if envelope.get("type") != "MemberTransferred":
        return
    key = (county, "member", envelope["aggregate_id"])
    directory.placements.invalidate(key)
    with contextlib.suppress(Exception):  # lagging read-model: the first drop stands, lookups wait for it
        await service.caught_up(county, await service.store.last_seq(county), projection=directory.name)
    directory.placements.invalidate(key)


async def placement(ctx: Context, directory: Directory, rated_kind: str, rated_id: str) -> Place:
    key = (ctx.county, rated_kind, rated_id)
    found = await _reader(ctx, directory).find(key)
    if found is None:
        await ctx.service.caught_up(ctx.county, await ctx.service.store.last_seq(ctx.county))
        found = await _reader(ctx, directory).find(key)
    if found is None:
        what = "党员" if rated_kind == "member" else "党组织"
        raise not_found(f"{rated_kind}_not_found", f"本县无此{what} / {rated_kind} {rated_id} not found in this county",
                        "rated_id")
    return found
