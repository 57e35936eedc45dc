"""Aggregates and the command executor: load (cached), decide, append, retry on conflict.

A domain aggregate is a plain class (no I/O):

    class Member(Aggregate):
        context, aggregate_type = "org", "member"
        def apply(self, event) -> None: ...          # the only mutator, used to fold the log
        def register(self, ...) -> list[DomainEvent]  # checks invariants, returns new events

The executor keeps folded state per subject in an LRU cache together with the stream sequence it
reflects. It trusts the cache and lets the server check it: every append carries
Nats-Expected-Last-Subject-Sequence, so a stale cache shows up as a conflict, is evicted, and the
command is decided again on fresh state (docs/decisions/002-event-log.md).
"""
from __future__ import annotations

import asyncio
import contextlib
import random
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar, Generic, TypeVar

from shared.catalog.base import DomainEvent
from shared.envelope import Metadata, seal, subject_for
from shared.errors import DomainError, conflict
from shared.eventstore import ATOMIC_MAX, Appended, ConcurrencyConflict, EventStore


class Aggregate:
    context: ClassVar[str]
    aggregate_type: ClassVar[str]

    def __init__(self, aggregate_id: str):
        self.id = aggregate_id

    def apply(self, event: DomainEvent) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    @property
    def exists(self) -> bool:
        """True once the aggregate's first event has been applied."""
        return getattr(self, "_exists", False)

    def mark_exists(self) -> None:
        self._exists = True


A = TypeVar("A", bound=Aggregate)


@dataclass
class Loaded(Generic[A]):
    state: A
    version: int = 0           # stream sequence of the subject's last event (0 = empty)
    last_hash: str | None = None
    event_ids: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Outcome:
    appended: list[Appended]
    result: dict

    @property
    def seq(self) -> int:
        return self.appended[-1].seq if self.appended else 0


class Repository:
    def __init__(self, store: EventStore, max_cached: int = 200_000, retries: int = 5):
        self.store = store
        self.retries = retries
        self.max_cached = max_cached
        self._cache: OrderedDict[str, Loaded] = OrderedDict()
        self._locks: dict[str, list] = {}  # subject -> [lock, users]
        self._appending: set[str] = set()  # event ids of our appends not yet acknowledged

    async def on_stored(self, msg) -> None:
        """Every event stored on a subject this service writes (a core NATS subscription): a cached
        aggregate that another instance has just changed is dropped, so this instance's next command
        on it loads the log instead of meeting a conflict (with several instances behind one queue
        group, a command seldom reaches the instance that ran the previous one)."""
        loaded = self._cache.get(msg.subject)
        if loaded is not None:
            event_id = msg.headers.get("Nats-Msg-Id") if msg.headers else None
            if event_id not in loaded.event_ids and event_id not in self._appending:
                self._cache.pop(msg.subject, None)

    @contextlib.asynccontextmanager
    async def _serialized(self, subject: str):
        """Commands on one aggregate queue up inside this process; optimistic concurrency then
        only has to arbitrate between processes, so hot aggregates don't burn their retries."""
        entry = self._locks.setdefault(subject, [asyncio.Lock(), 0])
        entry[1] += 1
        try:
            async with entry[0]:
                yield
        finally:
            entry[1] -= 1
            if entry[1] == 0:
                self._locks.pop(subject, None)

    @staticmethod
    def subject(county: str, cls: type[Aggregate], aggregate_id: str) -> str:
        return subject_for(county, cls.context, cls.aggregate_type, aggregate_id)

    async def get(self, county: str, cls: type[A], aggregate_id: str) -> Loaded[A]:
        subject = self.subject(county, cls, aggregate_id)
        hit = self._cache.get(subject)
        if hit is not None:
            self._cache.move_to_end(subject)
            return hit
        loaded: Loaded[A] = Loaded(cls(aggregate_id))
        for stored in await self.store.load(county, subject):
            if stored.event is not None:
                loaded.state.apply(stored.event)
            loaded.version, loaded.last_hash = stored.seq, stored.hash
            loaded.event_ids.add(stored.envelope["event_id"])
        self._remember(subject, loaded)
        return loaded

    def evict(self, county: str, cls: type[Aggregate], aggregate_id: str) -> None:
        self._cache.pop(self.subject(county, cls, aggregate_id), None)

    def forget(self, subject: str) -> None:
        self._cache.pop(subject, None)

    async def append_chunked(self, county: str, items: list[tuple[str, dict, int | None]]) -> int:
        """Many independent first events (an import) in atomic batches of ATOMIC_MAX; the last sequence."""
        seq = 0
        for start in range(0, len(items), ATOMIC_MAX):
            seq = (await self.append_atomic(county, items[start:start + ATOMIC_MAX]))[-1].seq
        return seq

    async def append_atomic(self, county: str, items: list[tuple[str, dict, int | None]]) -> list[Appended]:
        """Events of several aggregates in one atomic batch (a founding, a merge, an import chunk).
        Their cached states are dropped whatever the outcome, so the next load sees the log."""
        try:
            return await self.store.append_atomic(county, items)
        finally:
            for subject, _, _ in items:
                self.forget(subject)

    def _remember(self, subject: str, loaded: Loaded) -> None:
        self._cache[subject] = loaded
        if len(self._cache) > self.max_cached:
            self._cache.popitem(last=False)

    async def execute(self, county: str, cls: type[A], aggregate_id: str, meta: Metadata,
                      decide: Callable[[A], list[DomainEvent]],
                      result: Callable[[A, list[DomainEvent]], dict] | None = None) -> Outcome:
        """Decide on current state and append; on a concurrent write, decide again on fresh state.

        `decide` must not mutate the state it is given (it returns events; the executor applies
        them after the server accepted them)."""
        subject = self.subject(county, cls, aggregate_id)
        async with self._serialized(subject):
            return await self._execute(county, cls, aggregate_id, subject, meta, decide, result)

    async def _execute(self, county, cls, aggregate_id, subject, meta, decide, result) -> Outcome:
        pending_ids: list[str] = []
        for attempt in range(self.retries):
            if attempt:
                await asyncio.sleep(random.uniform(0.002, 0.02) * attempt)  # let the other writer finish
            loaded = await self.get(county, cls, aggregate_id)
            if pending_ids and loaded.event_ids.intersection(pending_ids):
                # our earlier attempt was stored but its ack was lost: it is done, exactly once
                return Outcome([Appended(i, loaded.version, loaded.last_hash or "") for i in pending_ids], {})
            events = decide(loaded.state)
            if not events:
                return Outcome([], result(loaded.state, []) if result else {})
            envelopes, prev = [], loaded.last_hash
            for ev in events:
                env = seal(county, aggregate_id, ev, meta, prev)
                envelopes.append(env)
                prev = env["hash"]
            pending_ids = [e["event_id"] for e in envelopes]
            self._appending.update(pending_ids)
            try:
                appended = await self.store.append(county, subject, envelopes, loaded.version)
            except ConcurrencyConflict:
                self._cache.pop(subject, None)
                continue
            except TimeoutError:
                self._cache.pop(subject, None)  # unknown outcome: reload and check pending_ids
                continue
            finally:
                self._appending.difference_update(pending_ids)
            for ev, app in zip(events, appended):
                loaded.state.apply(ev)
                loaded.version, loaded.last_hash = app.seq, app.hash
                loaded.event_ids.add(app.event_id)
            if self._cache.get(subject) in (None, loaded):  # a concurrent reload may hold newer state
                self._remember(subject, loaded)
            return Outcome(appended, result(loaded.state, events) if result else {})
        raise conflict("concurrent_modification",
                       f"{cls.aggregate_type} {aggregate_id} kept changing under concurrent writers; try again")


__all__ = ["Aggregate", "Repository", "Loaded", "Outcome", "DomainError"]
