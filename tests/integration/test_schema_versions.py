"""A read-model whose columns change: the projection raises its schema_version, and an instance running the
new code builds the new tables from the log beside the old ones (which an instance of the old code keeps
serving and updating), swaps the county's rows in, and runs the new version live from there. The
checkpoint table records each version."""
from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
from sqlalchemy import Column, String, select

from shared.db import projection_checkpoint
from shared.errors import DomainError
from shared.eventstore import EventStore
from shared.projection import Projection
from shared.service import Routes, Service
from tests.conftest import new_county
from tests.integration.test_projection_leases import add_townships


class Townships(Projection):
    name = "test.schema_townships"
    subjects = ("org.township.>",)
    handles = frozenset({"TownshipAdded"})

    def define_tables(self) -> None:
        self.rows = self.table("test_schema_township", Column("county", String(6), primary_key=True),
                               Column("township_id", String(64), primary_key=True))

    def apply(self, conn, county: str, events: Sequence) -> None:
        conn.execute(self.rows.insert(), [{"county": county, "township_id": ev.event.township_id} for ev in events])


class TownshipsWithNames(Townships):
    """The next release: the same read-model with a column more."""
    schema_version = 2

    def define_tables(self) -> None:
        self.rows = self.table("test_schema_township", Column("county", String(6), primary_key=True),
                               Column("township_id", String(64), primary_key=True), Column("name", String(64)))

    def apply(self, conn, county: str, events: Sequence) -> None:
        conn.execute(self.rows.insert(), [{"county": county, "township_id": ev.event.township_id,
                                           "name": ev.event.name} for ev in events])


def rows(svc: Service, ptype: type[Projection], county: str) -> list[tuple]:
    table = svc.projection(ptype).rows
    with svc.engine.connect() as conn:
        return sorted(tuple(r)[1:] for r in conn.execute(select(table).where(table.c.county == county)))


def versions(svc: Service, county: str) -> dict[str, int | None]:
    c = projection_checkpoint.c
    with svc.engine.connect() as conn:
        return dict(conn.execute(select(c.projection, c.schema_version).where(
            c.county == county, c.projection.like("test.schema_townships%"))).all())


async def test_a_changed_read_model_is_built_beside_the_old_one_and_swapped_in(settings, nats_server, nc):
    county = new_county()
    store = EventStore(nc)
    await store.add_county_stream(county)
    seq = await add_townships(store, county, 0, 5)
    fast = settings.model_copy(update={"lease_ttl_s": 4.0, "nats_user": "operator"})  # ad-hoc services
    old, new = Service(Routes("schematest"), projections=[Townships]), None
    await old.start(nats_server.url, fast)
    try:
        await old.caught_up(county, seq)
        assert rows(old, Townships, county) == [(f"t{i}",) for i in range(5)]

        new = Service(Routes("schematest"), projections=[TownshipsWithNames])  # the new release starts
        await new.start(nats_server.url, fast)
        key = (Townships.name, county)
        if key in new.host.building:  # until the swap, its tables are not the county's: no half answer
            with pytest.raises(DomainError) as refused:
                await new.caught_up(county, None)
            assert refused.value.status == 503 and refused.value.code == "read_model_rebuilding"
        seq = await add_townships(store, county, 5, 3)  # the old release goes on meanwhile (blue/green)
        await old.caught_up(county, seq)
        assert len(rows(old, Townships, county)) == 8
        for _ in range(1200):  # it builds every county of the session that had the old version, two at a time
            if key in new.runners:
                break
            await asyncio.sleep(0.1)
        assert key in new.runners and key not in new.host.building
        await new.caught_up(county, seq)
        assert rows(new, TownshipsWithNames, county) == [(f"t{i}", f"第{i}镇") for i in range(8)]
        assert rows(old, Townships, county) == [(f"t{i}",) for i in range(8)]  # the old copy untouched
        assert versions(new, county) == {"test.schema_townships": 1, "test.schema_townships.v2": 2}
        assert new.projection(TownshipsWithNames).rows.name == "test_schema_township_v2"
    finally:
        await old.stop()
        if new:
            await new.stop()


async def test_a_rebuild_reports_its_progress_in_health(settings, nats_server, nc):
    from shared.progress import Progress
    from shared.rebuild import rebuild_county

    county = new_county()
    store = EventStore(nc)
    await store.add_county_stream(county)
    last = await add_townships(store, county, 0, 12)
    svc = Service(Routes("schematest"), projections=[Townships])
    await svc.start(nats_server.url, settings.model_copy(update={"nats_user": "operator"}))
    try:
        progress = Progress()
        await rebuild_county(svc.nc, svc.engine, Townships, county, replay_batch=5, progress=progress)
        assert progress.done == progress.total == last and progress.phase == "catch-up and swap"
        svc.host.rebuilding[(Townships.name, county)] = Progress(total=100, done=40, started=progress.started - 4)
        [view] = [p for p in (await svc.health())["projections"] if p["county"] == county]
        assert view["rebuild"]["events_done"] == 40 and view["rebuild"]["events_total"] == 100
        assert view["rebuild"]["rate_per_s"] > 0 and view["rebuild"]["eta_s"] > 0
    finally:
        svc.host.rebuilding.clear()
        await svc.stop()
