"""The checkpoint store: per (projection, county), the last stream sequence whose events are in the
read-model, and the malformed event that stopped it, if one did. The only module that writes checkpoint
rows: the live runner (with each batch), the rebuild's replay (with its last transaction) and the swap
(with the swapped-in rows) all call `write_checkpoint` inside the transaction that commits their rows, so
the SQL checkpoint is the truth about what was applied."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.engine import Connection

from shared.db import projection_checkpoint, upsert


def read_checkpoint(conn: Connection, projection: str, county: str) -> tuple[int, int | None, str | None]:
    """(seq, error seq, error): (0, None, None) when the projection never committed for the county."""
    row = conn.execute(select(projection_checkpoint.c.seq, projection_checkpoint.c.error_seq,
                              projection_checkpoint.c.error)
                       .where(projection_checkpoint.c.projection == projection,
                              projection_checkpoint.c.county == county)).first()
    return (row.seq, row.error_seq, row.error) if row else (0, None, None)


def locked_checkpoint(conn: Connection, projection: str, county: str) -> int:
    """The persisted checkpoint, row-locked until commit (FOR UPDATE on PostgreSQL; SQLite
    serializes writers itself)."""
    seq = conn.execute(select(projection_checkpoint.c.seq).where(
        projection_checkpoint.c.projection == projection, projection_checkpoint.c.county == county)
        .with_for_update()).scalar()
    return seq or 0


def write_checkpoint(conn: Connection, projection: str, county: str, seq: int,
                     error_seq: int | None = None, error: str | None = None, schema_version: int = 1) -> None:
    """Inside the caller's transaction, the one that commits the rows up to `seq` (written by tables of
    `schema_version`)."""
    upsert(conn, projection_checkpoint, [{"projection": projection, "county": county, "seq": seq,
                                         "error_seq": error_seq, "error": error, "updated_at": datetime.now(UTC),
                                         "schema_version": schema_version}], ["projection", "county"])


def advance_checkpoint(engine: Engine, projection: Any, county: str, seq: int) -> None:
    """Its own transaction: the checkpoint of events that changed no row (a runner's skipped batches)."""
    with engine.begin() as conn:
        persisted = locked_checkpoint(conn, projection.checkpoint_name, county)
        write_checkpoint(conn, projection.checkpoint_name, county, max(seq, persisted),
                         schema_version=projection.schema_version)


def delete_checkpoint(conn: Connection, projection: str) -> None:
    """Every county's checkpoint of a projection whose tables are dropped."""
    conn.execute(projection_checkpoint.delete().where(projection_checkpoint.c.projection == projection))
