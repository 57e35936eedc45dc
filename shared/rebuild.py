"""Rebuild: one county's rows of a projection made again from sequence 1, then swapped in.

The bulk of the log is replayed into fresh tables (shared/freshdb.py) through the projection's rebuild
fold (shared/replay.py); what was appended meanwhile is folded by an ordinary runner on the fresh tables;
then the live rows and checkpoint are replaced in one transaction (docs/decisions/007-rebuild-fold.md).
"""
from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

from nats.aio.client import Client as NATS
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine, MetaData, Table, func, select
from sqlalchemy.engine import Connection

from shared.checkpoints import write_checkpoint
from shared.envelope import MalformedEvent
from shared.eventstore import EventStore, stream_name
from shared.freshdb import FreshStore
from shared.projection import Projection
from shared.progress import Progress
from shared.projection_runner import ProjectionRunner
from shared.replay import FOLD_BATCH, replay


async def rebuild_county(nc: NATS, engine: Engine, projection_cls: type[Projection], county: str,
                         live: ProjectionRunner | None = None, timeout: float = 3600.0,
                         replay_batch: int = FOLD_BATCH, authenticator: Any = None,
                         progress: Progress | None = None) -> dict[str, Any]:
    """Rebuild one county's rows of a projection from sequence 1 into fresh tables (shared/freshdb.py),
    then swap them in: the live rows and checkpoint are replaced in one transaction.

    The bulk of the log is replayed through the projection's rebuild fold (shared/replay.py); what
    was appended meanwhile is folded by an ordinary runner on the fresh tables. The live runner (if
    given) keeps serving until then; it is paused only for the final catch-up and the swap, and
    resumes even if the rebuild fails. `progress` follows the replay, then the catch-up and swap."""
    store = EventStore(nc)
    fresh = projection_cls(suffix="__rebuild")
    place = FreshStore(engine, f"{projection_cls.name}.{county}")
    paused = False
    try:
        await asyncio.to_thread(fresh.drop_tables, place.engine)
        await asyncio.to_thread(fresh.create_tables, place.engine)
        runner = ProjectionRunner(nc, place.engine, fresh, county, max_batch=10_000, pull_batch=10_000,
                                  authenticator=authenticator)
        started = time.perf_counter()
        await replay(nc, place.engine, fresh, county, await store.last_seq(county),
                     consumer=f"{runner.durable}_replay", batch=replay_batch, authenticator=authenticator,
                     progress=progress.update if progress else None)
        if progress:
            progress.phase = "catch-up and swap"
        await runner.start()  # from the replayed checkpoint on
        try:
            await _catch_up(runner, await store.last_seq(county), timeout)
            if live is not None:
                await live.stop()
                paused = True
            await _catch_up(runner, await store.last_seq(county), timeout)
            elapsed = time.perf_counter() - started
        finally:
            await runner.stop()
            with contextlib.suppress(Exception):
                await nc.jetstream().delete_consumer(stream_name(county), runner.durable)
        await asyncio.to_thread(swap_rows, engine, place, fresh, projection_cls(), county, runner.checkpoint)
        if paused:
            live.checkpoint = runner.checkpoint
    finally:
        await asyncio.to_thread(place.discard, fresh)
        if paused:
            await live.start()
    return {"projection": projection_cls.name, "county": county, "events": runner.checkpoint,
            "seconds": round(elapsed, 3)}


async def _catch_up(runner: ProjectionRunner, seq: int, timeout: float) -> None:
    if not await runner.wait_for(seq, timeout):
        raise TimeoutError(f"rebuild of {runner.projection.name} did not reach {seq}")
    if runner.error:
        raise MalformedEvent(f"rebuild stopped at seq {runner.error[0]}: {runner.error[1]}")


def swap_rows(engine: Engine, place: FreshStore, fresh: Projection, live: Projection, county: str, seq: int) -> None:
    live.create_tables(engine)
    with engine.connect() as conn, place.attached(conn) as schema, conn.begin():
        for name, table in live.metadata.tables.items():
            source = fresh.metadata.tables[name + fresh.suffix]
            if schema:
                source = source.to_metadata(MetaData(), schema=schema)
            if _only_rows_of(conn, table, county):
                # SQLite empties a table by freeing its pages when the DELETE has no WHERE ("truncate
                # optimization"; a fifth of the time for the 60,000 members of a county)
                conn.exec_driver_sql(f"DELETE FROM {_qualified(conn, table)}")
            else:
                conn.execute(table.delete().where(table.c.county == county))
            if _same_stored_columns(conn, table, source):
                # the fresh tables hold this county's rows only (created empty for this rebuild): a plain
                # INSERT ... SELECT * lets SQLite copy records and index entries without decoding them
                # when the live table holds no other county (its "transfer optimization"; ~5x faster)
                conn.exec_driver_sql(f"INSERT INTO {_qualified(conn, table)} SELECT * FROM {_qualified(conn, source)}")
            else:
                conn.execute(table.insert().from_select([c.name for c in table.columns],
                                                        select(*[source.c[c.name] for c in table.columns])
                                                        .where(source.c.county == county)))
        write_checkpoint(conn, live.checkpoint_name, county, seq, schema_version=live.schema_version)


def _only_rows_of(conn: Connection, table: Table, county: str) -> bool:
    """SQLite, and the live table holds no other county's rows (two lookups at the ends of its primary key,
    which starts with the county)."""
    if conn.dialect.name != "sqlite":
        return False
    return conn.execute(select(func.min(table.c.county))).scalar() in (None, county) and \
        conn.execute(select(func.max(table.c.county))).scalar() in (None, county)


def _same_stored_columns(conn: Connection, table: Table, source: Table) -> bool:
    """SQLite, and both tables store the same columns in the same order (a live table created by an
    older version could differ: SELECT * would then misplace values)."""
    if conn.dialect.name != "sqlite":
        return False
    quote = conn.dialect.identifier_preparer.quote
    stored = [[r[1] for r in conn.exec_driver_sql(
        f"PRAGMA {quote(t.schema) + '.' if t.schema else ''}table_info({quote(t.name)})")] for t in (table, source)]
    return stored[0] == stored[1] == [c.name for c in table.columns]


def _qualified(conn: Connection, table: Table) -> str:
    quote = conn.dialect.identifier_preparer.quote
    return f"{quote(table.schema)}.{quote(table.name)}" if table.schema else quote(table.name)


class RebuildProjection(BaseModel):
    """Rebuild one of the service's read-models for the county: replay the log into fresh tables, swap."""

    model_config = ConfigDict(extra="forbid")
    projection: str = Field(min_length=1, max_length=80, description="projection name, e.g. ratings.stars")


class Rebuilt(BaseModel):
    """The answer to rebuild."""

    projection: str = Field(description="the projection rebuilt")
    county: str = Field(description="the county whose rows were swapped in")
    events: int = Field(description="stream sequence the rebuilt rows reflect (their checkpoint)")
    seconds: float = Field(description="time from the start of the replay to the swap")
