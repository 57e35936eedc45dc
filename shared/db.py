"""Read-model databases: SQLite files by default, PostgreSQL in production (SQLAlchemy 2 Core).

Read-models are disposable (rebuilt from the log), so SQLite runs in WAL mode with
synchronous=NORMAL: a power loss may lose the last commits, which the projection then re-applies
from its checkpoint; it can never half-apply a batch.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Column, DateTime, Engine, Integer, MetaData, String, Table, Text, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

checkpoint_metadata = MetaData()

projection_checkpoint = Table(
    "projection_checkpoint", checkpoint_metadata,
    Column("projection", String(80), primary_key=True),
    Column("county", String(6), primary_key=True),
    Column("seq", Integer, nullable=False, default=0),
    Column("error_seq", Integer),
    Column("error", Text),
    Column("updated_at", DateTime(timezone=True)),
)


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # noqa: ANN001
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    return create_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True)


def upsert(conn: Connection, table: Table, rows: Sequence[dict[str, Any]], keys: Iterable[str]) -> None:
    """Insert rows, replacing the non-key columns of rows whose key already exists."""
    if not rows:
        return
    keys = list(keys)
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table)
    updates = {c.name: stmt.excluded[c.name] for c in table.columns if c.name not in keys}
    stmt = stmt.on_conflict_do_update(index_elements=keys, set_=updates) if updates else \
        stmt.on_conflict_do_nothing(index_elements=keys)
    conn.execute(stmt, list(rows))
