"""Where a rebuild builds its fresh tables before the swap.

SQLite: a throwaway file beside the database, one per (projection, county), written without fsync
and with its rollback journal in memory. The replay's hundreds of thousands of rows then neither go
through the live database's WAL nor hold its single write lock (the live projections of other
counties keep committing), and discarding the copy is deleting a file rather than dropping tables
page by page. For the swap the file is attached to a connection of the live database, so the live
rows and checkpoint are still replaced in one durable transaction there.

PostgreSQL (and in-memory SQLite): the fresh tables sit beside the live ones, in the same database.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection

SCHEMA = "rebuild"  # name of the attached file during the swap


class FreshTables(Protocol):
    """What a rebuild's fresh projection instance offers here (a shared.projection.Projection)."""

    def drop_tables(self, engine: Engine) -> None: ...


class FreshStore:
    def __init__(self, engine: Engine, name: str):
        self.live = engine
        database = engine.url.database if engine.dialect.name == "sqlite" else None
        if database and database != ":memory:" and not database.startswith("file:"):
            self.path: Path | None = Path(database).with_name(f"{Path(database).name}.{name}.rebuild")
            self._discard_file()
            self.engine = _throwaway_engine(self.path)
        else:
            self.path, self.engine = None, engine

    @contextlib.contextmanager
    def attached(self, conn: Connection) -> Iterator[str | None]:
        """The schema to read the fresh tables from on `conn`, a connection of the live database
        (outside a transaction: SQLite attaches only then)."""
        if self.path is None:
            yield None
            return
        conn.exec_driver_sql(f"ATTACH DATABASE ? AS {SCHEMA}", (str(self.path),))
        conn.commit()
        try:
            yield SCHEMA
        finally:
            conn.rollback()
            conn.exec_driver_sql(f"DETACH DATABASE {SCHEMA}")
            conn.commit()

    def discard(self, fresh: FreshTables) -> None:
        """Drop the fresh tables (and their checkpoint row): delete the file, or drop them."""
        if self.path is None:
            fresh.drop_tables(self.engine)
        else:
            self.engine.dispose()
            self._discard_file()

    def _discard_file(self) -> None:
        for suffix in ("", "-journal", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)


def _throwaway_engine(path: Path) -> Engine:
    engine = create_engine(f"sqlite:///{path}", connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn, _record):  # noqa: ANN001
        cur = dbapi_conn.cursor()
        # a crash may corrupt this file, which the next rebuild deletes anyway; a rollback still works
        cur.execute("PRAGMA journal_mode=MEMORY")
        cur.execute("PRAGMA synchronous=OFF")
        cur.close()

    return engine
