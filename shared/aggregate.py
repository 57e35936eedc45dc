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
several (a merge, a founding, an import): one pure function decides on all of them and all their
events go into one atomic batch, with the same retries (docs/decisions/013-bounded-contexts.md).
"""
from __future__ import annotations

import asyncio
import contextlib
import random
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, TypeVar

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


@dataclass
class Decision:
    """What a pure domain function decided over several aggregates: each one's new events (appended in
    this order) and what the command answers. Aggregates without events are simply not added."""

    changes: list[tuple[Aggregate, list[DomainEvent]]] = field(default_factory=list)
    answer: Any = None

    def add(self, aggregate: Aggregate, events: list[DomainEvent]) -> Decision:
        if events:
            self.changes.append((aggregate, list(events)))
        return self


Ref = tuple[type[Aggregate], str]  # (aggregate class, id)
LOADS_IN_FLIGHT = 64


@dataclass(frozen=True)
class Outcome:
    appended: list[Appended]
    result: Any  # what `result` made of the new state (execute), the decision's answer (execute_many)

    @property
    def seq(self) -> int:
        return self.appended[-1].seq if self.appended else 0


class Repository:
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
                env = seal(county, aggregate_id, ev, meta, prev, signer=self.signer)
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
            self._applied(subject, loaded, events, appended)
            return Outcome(appended, result(loaded.state, events) if result else {})
        raise conflict("concurrent_modification",
                       f"{cls.aggregate_type} {aggregate_id} kept changing under concurrent writers; try again")

    def _applied(self, subject: str, loaded: Loaded, events: list[DomainEvent], appended: list[Appended]) -> None:
        """The server accepted `events`: fold them into the loaded state and keep it cached."""
        for ev, app in zip(events, appended):
            loaded.state.apply(ev)
            loaded.version, loaded.last_hash = app.seq, app.hash
            loaded.event_ids.add(app.event_id)
        if self._cache.get(subject) in (None, loaded):  # a concurrent reload may hold newer state
            self._remember(subject, loaded)

    # -- several aggregates: the unit of work ------------------------------------------------------
    async def load_many(self, county: str, refs: Sequence[Ref]) -> list[Loaded]:
        """The aggregates of `refs` in that order (cached, or read from the log, LOADS_IN_FLIGHT at a time)."""
        out: list[Loaded] = []
        for start in range(0, len(refs), LOADS_IN_FLIGHT):
            out += await asyncio.gather(*(self.get(county, cls, i) for cls, i in refs[start:start + LOADS_IN_FLIGHT]))
        return out

    async def execute_many(self, county: str, meta: Metadata, refs: Sequence[Ref],
                           decide: Callable[[list[Any]], Decision], *, chunked: bool = False) -> Outcome:
        """Load every aggregate of `refs` (each once, in that order), let `decide` (pure, no mutation)
        decide on all of them, and append all their events in one atomic batch — each aggregate's
        first event with its expected sequence. A concurrent write to any of them refuses the whole
        batch (nothing is stored) and the command is decided again on fresh state, at most `retries`
        times; a batch whose acknowledgement was lost is found in the log, never appended twice.

        `chunked`: the decision may exceed one atomic batch (ATOMIC_MAX events); it is appended in
        atomic chunks of whole aggregates, each stored or not on its own. Only for decisions that are
        safe to take again after part of them was stored: imports, whose ids make a second decision
        register only what is still missing."""
        refs = list(dict.fromkeys(refs))
        subjects = {ref: self.subject(county, *ref) for ref in refs}
        async with contextlib.AsyncExitStack() as locks:
            for subject in sorted(set(subjects.values())):  # one order for every command: no deadlock
                await locks.enter_async_context(self._serialized(subject))
            return await self._execute_many(county, meta, refs, subjects, decide, chunked)

    async def _execute_many(self, county, meta, refs, subjects, decide, chunked) -> Outcome:
        appended: list[Appended] = []
        pending: list[tuple[str, str]] = []  # (subject, event id) of a batch whose outcome is unknown
        decision = Decision()
        for attempt in range(self.retries):
            if attempt:
                await asyncio.sleep(random.uniform(0.002, 0.02) * attempt)  # let the other writer finish
            loaded = dict(zip(refs, await self.load_many(county, refs)))
            by_subject = {subjects[ref]: lo for ref, lo in loaded.items()}
            if pending and any(i in by_subject[s].event_ids for s, i in pending):
                # that batch was stored but its ack was lost: it is done, exactly once
                appended += [Appended(i, by_subject[s].version, by_subject[s].last_hash or "") for s, i in pending]
                appended.sort(key=lambda a: a.seq)
                if not chunked:
                    return Outcome(appended, decision.answer)
            pending = []
            decision = decide([lo.state for lo in loaded.values()])
            try:
                for batch in self._batches(county, meta, decision, loaded, subjects, chunked, self.signer):
                    pending = [(subject, env["event_id"]) for subject, env, _, _, _ in batch]
                    ids = [i for _, i in pending]
                    self._appending.update(ids)
                    try:
                        stored = await self.store.append_atomic(county, [(s, env, exp) for s, env, exp, _, _ in batch])
                    finally:
                        self._appending.difference_update(ids)
                    pending = []
                    appended += stored
                    for (subject, _, _, lo, ev), app in zip(batch, stored):
                        self._applied(subject, lo, [ev], [app])
            except (ConcurrencyConflict, TimeoutError):  # refused (nothing of it stored) or unknown: reload
                for subject in subjects.values():
                    self.forget(subject)
                continue
            return Outcome(appended, decision.answer)
        raise conflict("concurrent_modification", "所涉对象正在被他人修改，请重试 / "
                                                  "the records concerned kept changing under concurrent writers; retry")

    @staticmethod
    def _batches(county: str, meta: Metadata, decision: Decision, loaded: dict, subjects: dict,
                 chunked: bool, signer: Any = None) -> list[list[tuple]]:
        """The decision's events sealed (each aggregate's hash chain continued) in atomic batches of
        whole aggregates: [(subject, envelope, expected seq or None, loaded, event)]."""
        by_state = {id(lo.state): (ref, lo) for ref, lo in loaded.items()}
        batches: list[list[tuple]] = [[]]
        for aggregate, events in decision.changes:
            if id(aggregate) not in by_state:
                raise ValueError(f"decided on {aggregate.aggregate_type} {aggregate.id}, which was not loaded")
            ref, lo = by_state[id(aggregate)]
            subject, prev, group = subjects[ref], lo.last_hash, []
            for n, ev in enumerate(events):
                env = seal(county, aggregate.id, ev, meta, prev, signer=signer)
                group.append((subject, env, lo.version if n == 0 else None, lo, ev))
                prev = env["hash"]
            if len(batches[-1]) + len(group) > ATOMIC_MAX:
                if not chunked or len(group) > ATOMIC_MAX:
                    raise ValueError(f"a decision of more than {ATOMIC_MAX} events is not one atomic batch")
                batches.append([])
            batches[-1].extend(group)
        return [b for b in batches if b]


__all__ = ["Aggregate", "Decision", "Repository", "Loaded", "Outcome", "DomainError"]
