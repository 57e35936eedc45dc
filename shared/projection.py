"""Projections: named folds of the log into SQL tables, one durable consumer per (projection, county).

What a projection is lives here; what runs one lives beside it:

    shared/projection_runner.py  ProjectionRunner: keeps one county's tables current from its consumer
    shared/rebuild.py            rebuild_county: replay into fresh tables, catch up, swap them in
    shared/replay.py             the rebuild's bulk replay into a RebuildFold (+ replay_log, replay_wire)
    shared/checkpoints.py        the checkpoint rows, written in the transaction of the rows they cover
    shared/freshdb.py            where a rebuild's fresh tables live until the swap
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, ClassVar, Protocol

from sqlalchemy import Engine, MetaData, Table
from sqlalchemy.engine import Connection

from shared.checkpoints import delete_checkpoint
from shared.db import ensure_checkpoint_table
from shared.envelope import StoredEvent


class RebuildFold(Protocol):
    """A projection's fold for a rebuild's bulk catch-up into its fresh (empty) tables.

    `fold` runs once per batch, in a worker thread, and consumes the batch's events once, as they are
    decoded; it touches no database but returns the batch's writes (or None). Those run in order, each in
    its own transaction, in another worker thread, while the next batch is decoded and folded: SQLite
    releases the GIL while it works, so its part of the time overlaps the decoding. A fold's state shared
    by both sides must therefore be safe to touch from both (stars_rebuild.py hands deltas over in a
    deque). `finish` runs once at the end, after the last write, in the transaction that also writes
    the checkpoint."""

    def fold(self, events: Iterable[StoredEvent]) -> Callable[[], None] | None: ...

    def finish(self) -> None: ...


class Projection:
    """Subclasses set `name`, build their tables in `define_tables`, and fold in `apply`.

    Table names get `suffix` appended so a rebuild can fill fresh tables beside the live ones.
    `schema_version`: raise it whenever the tables' columns change. Version N > 1 has tables of its own
    (`<table>_vN`), its own checkpoints (`<name>.vN`) and leases, so it is built beside the old version —
    which instances still running the old code keep serving — and where a county had an older version,
    the new one is made by a rebuild and swapped in before it serves (shared/hosting.py; decision 020)."""

    name: ClassVar[str]
    schema_version: ClassVar[int] = 1
    handles: ClassVar[frozenset[str]]  # event types it folds; every other type is skipped
    # subjects (after "pb.<county>.evt.") its consumer receives: the server leaves the rest out
    subjects: ClassVar[tuple[str, ...]] = (">",)
    keeps_unknown: ClassVar[bool] = False  # True: types this code does not know are passed too (the archive)

    def __init__(self, suffix: str = ""):
        self.suffix = suffix
        self.metadata = MetaData()
        self.define_tables()

    def table(self, base: str, *columns: Any) -> Table:
        version = "" if self.schema_version == 1 else f"_v{self.schema_version}"
        return Table(base + version + self.suffix, self.metadata, *columns)

    @classmethod
    def versioned_name(cls, version: int | None = None) -> str:
        """The name of the projection's checkpoints and leases at a schema version (this one by default)."""
        version = cls.schema_version if version is None else version
        return cls.name if version == 1 else f"{cls.name}.v{version}"

    @property
    def checkpoint_name(self) -> str:
        return self.versioned_name() + self.suffix

    def define_tables(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def apply(self, conn: Connection, county: str, events: Sequence[StoredEvent]) -> None:
        """Fold a batch inside the caller's transaction. Only events of `handles` are passed."""
        raise NotImplementedError

    def after_commit(self, county: str, events: Sequence[StoredEvent]) -> None:
        """Hook for in-memory caches that must follow the committed tables."""

    def rebuild_fold(self, conn: Connection, county: str) -> RebuildFold:
        """How a rebuild folds the replayed log into fresh tables (shared/replay.py). By default the
        live batch fold, once per replayed batch; a projection whose rows many events rewrite can
        keep its state in memory across the whole replay and write it once instead (ratings.stars)."""
        return BatchFold(self, conn, county)

    def create_tables(self, engine: Engine) -> None:
        ensure_checkpoint_table(engine)
        self.metadata.create_all(engine)

    def drop_tables(self, engine: Engine) -> None:
        ensure_checkpoint_table(engine)
        self.metadata.drop_all(engine)
        with engine.begin() as conn:
            delete_checkpoint(conn, self.checkpoint_name)


class BatchFold:
    """The generic rebuild fold: `apply` per replayed batch. (`after_commit` is left out: the fresh
    instance being rebuilt serves no queries, so it has no caches to follow.)"""

    def __init__(self, projection: Projection, conn: Connection, county: str):
        self.projection, self.conn, self.county = projection, conn, county

    def fold(self, events: Iterable[StoredEvent]) -> Callable[[], None] | None:
        batch = list(events)  # decoded here; applied by the replay's writer
        return (lambda: self.projection.apply(self.conn, self.county, batch)) if batch else None

    def finish(self) -> None:
        pass
