"""Read-model databases: SQLite files by default, PostgreSQL in production (SQLAlchemy 2 Core).

Read-models are disposable (rebuilt from the log), so SQLite runs in WAL mode with
synchronous=NORMAL: a power loss may lose the last commits, which the projection then re-applies
from its checkpoint; it can never half-apply a batch.
"""
from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from itertools import chain
from typing import Any

from sqlalchemy import (Column, Date, DateTime, Engine, Integer, MetaData, String, Table, Text, create_engine, event,
                        inspect)
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
    Column("schema_version", Integer),  # of the projection's tables the rows were written with
)
_checked: "weakref.WeakSet[Engine]" = weakref.WeakSet()


def ensure_checkpoint_table(engine: Engine) -> None:
    """The checkpoint table, with the `schema_version` column a database from before it lacks (added
    once, nullable: an old row is version 1)."""
    if engine in _checked:
        return
    checkpoint_metadata.create_all(engine)

    def has_column() -> bool:
        with engine.connect() as conn:
            return "schema_version" in {c["name"] for c in inspect(conn).get_columns("projection_checkpoint")}

    if not has_column():
        try:  # another instance may be adding it at the same moment
            with engine.begin() as conn:
                conn.exec_driver_sql("ALTER TABLE projection_checkpoint ADD COLUMN schema_version INTEGER")
        except Exception:
            if not has_column():
                raise
    _checked.add(engine)


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
    """Insert rows, replacing the non-key columns of rows whose key already exists.

    Projections write thousands of rows per batch: the statement is built once per table and
    dialect and the rows go to the driver's executemany with each column type's own bind
    processor — SQLAlchemy's per-row parameter machinery cost more than SQLite itself."""
    if rows:
        sql, columns, processors = _statement(conn.dialect, table, tuple(keys))
        conn.exec_driver_sql(sql, _tuples(rows, columns, processors))


def insert_rows(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Plain bulk insert through the same fast path."""
    if rows:
        sql, columns, processors = _statement(conn.dialect, table, None)
        conn.exec_driver_sql(sql, _tuples(rows, columns, processors))


class ListInsert:
    """Bulk insert of rows given as value lists in a fixed column order, for folds that build hundreds of
    thousands of rows (a rebuild): the per-row dict and lookups of insert_rows cost more than the values.
    Values get the same bind processors (the lists are converted in place). Rows go in multi-row
    INSERTs of up to `per_statement` rows: one statement step per few hundred rows instead of per row.
    With `keys`, an upsert as upsert()'s (the rows of one call must not repeat a key: PostgreSQL
    refuses to update a row twice in one statement)."""

    def __init__(self, conn: Connection, table: Table, columns: Sequence[str], per_statement: int = 500,
                 keys: Sequence[str] = ()):
        quote = conn.dialect.identifier_preparer.quote
        mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
        self.columns = tuple(columns)
        self.per_statement = max(1, min(per_statement, 30_000 // len(self.columns)))  # SQLite: ≤ 32,766 parameters
        self._head = f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in self.columns)}) VALUES "
        self._row = f"({', '.join([mark] * len(self.columns))})"
        self._tail = ""
        if keys:
            updates = ", ".join(f"{quote(c)} = excluded.{quote(c)}" for c in self.columns if c not in keys)
            self._tail = f" ON CONFLICT ({', '.join(quote(k) for k in keys)}) DO " + \
                (f"UPDATE SET {updates}" if updates else "NOTHING")
        self._full = self._sql(self.per_statement)
        processors = [bind_processor(table.c[c].type, conn.dialect) for c in self.columns]
        self._converted = [(i, p) for i, p in enumerate(processors) if p is not None]

    def _sql(self, rows: int) -> str:
        return self._head + ", ".join([self._row] * rows) + self._tail

    def __call__(self, conn: Connection, rows: list[list]) -> None:
        for i, p in self._converted:
            for values in rows:
                if values[i] is not None:
                    values[i] = p(values[i])
        n = self.per_statement
        for start in range(0, len(rows), n):
            part = rows[start:start + n]
            flat = tuple(chain.from_iterable(part))
            conn.exec_driver_sql(self._full if len(part) == n else self._sql(len(part)), flat)


# per Table object, weakly: keyed by id(table), a rebuild's fresh tables (new objects every rebuild) left
# entries behind whose ids a later table could reuse — its rows then went into another table's statement
_statements: weakref.WeakKeyDictionary[Table, dict[tuple, tuple]] = weakref.WeakKeyDictionary()


def bind_processor(column_type: Any, dialect: Any) -> Callable[[Any], Any] | None:
    """The column type's bind processor, except SQLite's for dates and timestamps: the same text from
    the datetime's own C formatting (~1 µs less a value, a few seconds of a 500,000-event rebuild)."""
    default = column_type._cached_bind_processor(dialect)
    if dialect.name != "sqlite" or default is None or getattr(column_type, "storage_format", None):
        return default
    if isinstance(column_type, DateTime):
        def timestamp(value: Any) -> Any:  # "YYYY-MM-DD HH:MM:SS.ffffff", the zone left out as SQLAlchemy does
            return value.isoformat(" ", "microseconds")[:26] if type(value) is datetime else default(value)
        return timestamp
    if isinstance(column_type, Date):
        def day(value: Any) -> Any:
            return value.isoformat() if type(value) is date else default(value)
        return day
    return default


def _statement(dialect, table: Table, keys: tuple[str, ...] | None) -> tuple:
    cache_key = (dialect.name, dialect.paramstyle, keys)
    cached = _statements.setdefault(table, {})
    if cache_key not in cached:
        quote = dialect.identifier_preparer.quote
        columns = [c.name for c in table.columns]
        mark = "?" if dialect.paramstyle == "qmark" else "%s"
        sql = (f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)}) "
               f"VALUES ({', '.join([mark] * len(columns))})")
        if keys is not None:
            updates = [f"{quote(c)} = excluded.{quote(c)}" for c in columns if c not in keys]
            conflict = f" ON CONFLICT ({', '.join(quote(k) for k in keys)}) DO "
            sql += conflict + (f"UPDATE SET {', '.join(updates)}" if updates else "NOTHING")
        processors = [bind_processor(c.type, dialect) for c in table.columns]
        cached[cache_key] = (sql, columns, processors)
    return cached[cache_key]


def _tuples(rows: Sequence[dict[str, Any]], columns: list[str], processors: list) -> list[tuple]:
    converted = [(i, p) for i, p in enumerate(processors) if p is not None]
    out = []
    for r in rows:
        values = [r.get(c) for c in columns]
        for i, p in converted:
            if values[i] is not None:
                values[i] = p(values[i])
        out.append(tuple(values))
    return out
