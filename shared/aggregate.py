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

`execute` decides on one aggregate; `execute_many` is the unit of work of a command that changes
several (a merge, a founding, an import, shared/unitofwork.py): one pure function decides on all of
them and all their events go into one atomic batch, with the same retries. Single events are pipelined
through the group commit (see `execute`, docs/decisions/021-performance.md).
"""
from __future__ import annotations

import asyncio
import contextlib
import functools
import random
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, TypeVar

from shared.catalog.base import DomainEvent
from shared.envelope import Metadata, seal, subject_for
from shared.errors import DomainError, conflict
from shared.eventstore import Appended, ConcurrencyConflict, EventStore
from shared.unitofwork import Decision, Outcome, UnitOfWork


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
    tail: asyncio.Future | None = None  # its last pipelined event while not yet stored (state includes it)


class Repository(UnitOfWork):
    def __init__(self, store: EventStore, max_cached: int = 200_000, retries: int = 5, signer: Any = None):
        self.store, self.signer = store, signer  # signer: shared.signing.Signer of this writer
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

    def _remember(self, subject: str, loaded: Loaded) -> None:
        self._cache[subject] = loaded
        if len(self._cache) > self.max_cached:
            self._cache.popitem(last=False)

    async def execute(self, county: str, cls: type[A], aggregate_id: str, meta: Metadata,
                      decide: Callable[[A], list[DomainEvent]],
                      result: Callable[[A, list[DomainEvent]], dict] | None = None) -> Outcome:
        """Decide on current state and append; on a concurrent write, decide again on fresh state.

        `decide` must not mutate the state it is given (it returns events; the executor applies them).
        Pipelined (docs/decisions/021-performance.md): a command of one event is decided on the cached
        state *including* this instance's events still pending in the group commit, its event queued after
        them and applied at once, and only then awaited, outside the aggregate's lock — the next command on
        it is decided meanwhile. If a pending event is refused, the cached state is dropped and the
        commands decided on it are decided again on fresh state. An answer without events (a replayed
        key) or with several waits until the pending events are stored."""
        subject = self.subject(county, cls, aggregate_id)
        pending_ids: list[str] = []
        pause = True
        for attempt in range(self.retries):
            if attempt and pause:
                await asyncio.sleep(random.uniform(0.002, 0.02) * attempt)  # let the other writer finish
            pause = True
            async with self._serialized(subject):
                loaded = await self.get(county, cls, aggregate_id)
                events = decide(loaded.state)
                if loaded.tail is not None and (len(events) != 1 or not self.pipelined):
                    loaded = await self._settled(county, cls, aggregate_id)
                    events = decide(loaded.state)
                if pending_ids and loaded.event_ids.intersection(pending_ids):
                    # our earlier attempt was stored but its ack was lost: it is done, exactly once
                    return Outcome([Appended(i, loaded.version, loaded.last_hash or "") for i in pending_ids], {})
                if not events:
                    return Outcome([], result(loaded.state, []) if result else {})
                if len(events) > 1 or not self.pipelined:  # awaited under the lock, as one atomic batch
                    try:
                        return await self._append_whole(county, subject, loaded, meta, events, result)
                    except (ConcurrencyConflict, TimeoutError):
                        continue
                env = seal(county, aggregate_id, events[0], meta, loaded.last_hash, signer=self.signer)
                pending_ids = [env["event_id"]]
                future = self.store.enqueue(county, subject, env, loaded.version, loaded.tail)
                future.add_done_callback(functools.partial(self._settle, subject, loaded))
                loaded.state.apply(events[0])
                loaded.last_hash, loaded.tail = env["hash"], future
                loaded.event_ids.add(env["event_id"])
                answer = result(loaded.state, events) if result else {}
            self._appending.update(pending_ids)
            try:
                return Outcome([await future], answer)
            except (ConcurrencyConflict, TimeoutError):  # refused, or unknown (then pending_ids is checked)
                # the first retry at once: the commands refused with it wake in their order and take
                # the aggregate's lock again in that order (the reload is the wait)
                pause = attempt > 0
                continue
            finally:
                self._appending.difference_update(pending_ids)
        raise conflict("concurrent_modification",
                       f"{cls.aggregate_type} {aggregate_id} kept changing under concurrent writers; try again")

    @property
    def pipelined(self) -> bool:
        return self.store.durability.group_commit

    async def _append_whole(self, county, subject, loaded, meta, events, result) -> Outcome:
        envelopes, prev = [], loaded.last_hash
        for ev in events:
            envelopes.append(seal(county, loaded.state.id, ev, meta, prev, signer=self.signer))
            prev = envelopes[-1]["hash"]
        ids = [e["event_id"] for e in envelopes]
        self._appending.update(ids)
        try:
            appended = await self.store.append(county, subject, envelopes, loaded.version)
        except (ConcurrencyConflict, TimeoutError):
            self._cache.pop(subject, None)  # stale, or the outcome is unknown: reload
            raise
        finally:
            self._appending.difference_update(ids)
        self._applied(subject, loaded, events, appended)
        return Outcome(appended, result(loaded.state, events) if result else {})

    def _settle(self, subject: str, loaded: Loaded, future: asyncio.Future) -> None:
        """A pipelined event stored (the state's version follows) or not (the state, which includes it,
        never was: dropped, so the next command loads the log). Runs before any waiter resumes."""
        if future.cancelled() or future.exception() is not None:
            if self._cache.get(subject) is loaded:
                self._cache.pop(subject)
        else:
            loaded.version = max(loaded.version, future.result().seq)
        if loaded.tail is future:
            loaded.tail = None

    async def _settled(self, county: str, cls: type[A], aggregate_id: str) -> Loaded[A]:
        """The aggregate once none of its pipelined events is pending (the caller holds its lock)."""
        loaded = await self.get(county, cls, aggregate_id)
        while loaded.tail is not None:
            await asyncio.wait([loaded.tail])
            loaded = await self.get(county, cls, aggregate_id)
        return loaded

    def _applied(self, subject: str, loaded: Loaded, events: list[DomainEvent], appended: list[Appended]) -> None:
        """The server accepted `events`: fold them into the loaded state and keep it cached."""
        for ev, app in zip(events, appended):
            loaded.state.apply(ev)
            loaded.version, loaded.last_hash = app.seq, app.hash
            loaded.event_ids.add(app.event_id)
        if self._cache.get(subject) in (None, loaded):  # a concurrent reload may hold newer state
            self._remember(subject, loaded)


__all__ = ["Aggregate", "Decision", "Repository", "Loaded", "Outcome", "DomainError"]
