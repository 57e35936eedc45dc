"""The unit of work of a command that changes several aggregates (a merge, a founding, an import): one pure
function decides on all of them and all their events go into one atomic batch, with the executor's retries
(docs/decisions/013-bounded-contexts.md). A mixin of shared/aggregate.py's Repository, which provides
`get`, `subject`, `forget`, `_serialized`, `_applied` and its store and signer.
"""
from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from shared.catalog.base import DomainEvent
from shared.envelope import Metadata, seal
from shared.errors import conflict
from shared.eventstore import ATOMIC_MAX, Appended, ConcurrencyConflict

Aggregate = Loaded = Any  # shared/aggregate.py's classes (imported from there would make a circle)


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


Ref = tuple[type, str]  # (aggregate class, id)
LOADS_IN_FLIGHT = 64


@dataclass(frozen=True)
class Outcome:
    appended: list[Appended]
    result: Any  # what `result` made of the new state (execute), the decision's answer (execute_many)

    @property
    def seq(self) -> int:
        return self.appended[-1].seq if self.appended else 0


class UnitOfWork:
    async def load_many(self, county: str, refs: Sequence[Ref]) -> list[Loaded]:
        """The aggregates of `refs` in that order (cached, or read from the log, LOADS_IN_FLIGHT at a time)."""
        out: list[Loaded] = []
        for start in range(0, len(refs), LOADS_IN_FLIGHT):
            out += await asyncio.gather(*(self.get(county, cls, i) for cls, i in refs[start:start + LOADS_IN_FLIGHT]))
        return out

    async def _settled_many(self, county: str, refs: Sequence[Ref]) -> list[Loaded]:
        """load_many once none has pipelined events pending (the caller holds their locks)."""
        out = await self.load_many(county, refs)
        while tails := [lo.tail for lo in out if lo.tail is not None]:
            await asyncio.wait(tails)
            out = await self.load_many(county, refs)
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
            loaded = dict(zip(refs, await self._settled_many(county, refs)))
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
