"""A read-model whose columns change: the projection raises its schema_version, and an instance running the
new code builds the new tables from the log beside the old ones (which an instance of the old code keeps
serving and updating), swaps the county's rows in, and runs the new version live from there. The
checkpoint table records each version."""
from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
from sqlalchemy import Column, String, select

from shared.db import make_engine, projection_checkpoint
from shared.errors import DomainError
from shared.eventstore import EventStore
from shared.hosting import ProjectionHost
from shared.projection import Projection
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


def rows(host: ProjectionHost, ptype: type[Projection], county: str) -> list[tuple]:
    table = host.projection(ptype).rows
    with host.engine.connect() as conn:
        return sorted(tuple(r)[1:] for r in conn.execute(select(table).where(table.c.county == county)))


def versions(host: ProjectionHost, county: str) -> dict[str, int | None]:
    c = projection_checkpoint.c
    with host.engine.connect() as conn:
        return dict(conn.execute(select(c.projection, c.schema_version).where(
            c.county == county, c.projection.like("test.schema_townships%"))).all())


async def hosted(nc, settings, ptype: type[Projection], county: str, instance: str) -> ProjectionHost:
    """One instance's projections (what a Service runs), attached to the test's county only."""
    host = ProjectionHost("schematest", [ptype])
    await host.open(nc, make_engine(settings.database_url_for("schematest")), settings, instance)
    await host.attach_county(county)
    host.keep_leases()
    return host


async def test_a_changed_read_model_is_built_beside_the_old_one_and_swapped_in(settings, nc):
    county = new_county()
    store = EventStore(nc)
    await store.add_county_stream(county)
    seq = await add_townships(store, county, 0, 5, settings.credentials_path)
    fast = settings.model_copy(update={"lease_ttl_s": 4.0})
    old, new = await hosted(nc, fast, Townships, county, f"schematest-old-{county}"), None
    try:
        await old.caught_up(county, seq)
        assert rows(old, Townships, county) == [(f"t{i}",) for i in range(5)]

        new = await hosted(nc, fast, TownshipsWithNames, county, f"schematest-new-{county}")  # the new release
        key = (Townships.name, county)
        if key in new.building:  # until the swap, its tables are not the county's: no half answer
            with pytest.raises(DomainError) as refused:
                await new.caught_up(county, None)
            assert refused.value.status == 503 and refused.value.code == "read_model_rebuilding"
        seq = await add_townships(store, county, 5, 3, settings.credentials_path)  # the old release goes on (blue/green)
        await old.caught_up(county, seq)
        assert len(rows(old, Townships, county)) == 8
        for _ in range(600):
            if key in new.runners:
                break
            await asyncio.sleep(0.1)
        assert key in new.runners and key not in new.building
        await new.caught_up(county, seq)
        assert rows(new, TownshipsWithNames, county) == [(f"t{i}", f"第{i}镇") for i in range(8)]
        assert rows(old, Townships, county) == [(f"t{i}",) for i in range(8)]  # the old copy untouched
        assert versions(new, county) == {"test.schema_townships": 1, "test.schema_townships.v2": 2}
        assert new.projection(TownshipsWithNames).rows.name == "test_schema_township_v2"
    finally:
        await old.close()
        if new:
            await new.close()


async def test_a_rebuild_reports_its_progress_in_health(settings, nc):
    from shared.progress import Progress
    from shared.rebuild import rebuild_county

    county = new_county()
    store = EventStore(nc)
    await store.add_county_stream(county)
    last = await add_townships(store, county, 0, 12, settings.credentials_path)
    host = await hosted(nc, settings, Townships, county, f"schematest-progress-{county}")
    try:
        progress = Progress()
        await rebuild_county(nc, host.engine, Townships, county, replay_batch=5, progress=progress)
        assert progress.done == progress.total == last and progress.phase == "catch-up and swap"
        host.rebuilding[(Townships.name, county)] = Progress(total=100, done=40, started=progress.started - 4)
        [view] = [p for p in await host.health() if p["county"] == county]
        assert view["rebuild"]["events_done"] == 40 and view["rebuild"]["events_total"] == 100
        assert view["rebuild"]["rate_per_s"] > 0 and view["rebuild"]["eta_s"] > 0
    finally:
        host.rebuilding.clear()
        await host.close()
