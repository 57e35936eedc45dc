"""Group commit: single-event appends of concurrent commands share one atomic batch.

With fsync on every write (the embedded single server), the disk flush is the price of an append:
one flush per event caps a county near the pipelined publish rate (~4,000/s here), while an atomic
batch of many events is flushed once. So appends queue per county; one batch is in flight at a
time, and whatever queued meanwhile becomes the next batch — the batch grows with the load and a
lone command goes out at once, as a plain publish.

Each event keeps its own Nats-Expected-Last-Subject-Sequence and Nats-Msg-Id. An atomic batch is
all or nothing, so when the server refuses one (a conflict on any of its subjects, a duplicate id),
its events are published again one by one and each command gets its own answer; nothing of the
refused batch was stored. See docs/decisions/008-group-commit.md.

Pipelined commands (docs/decisions/021-performance.md) queue an event decided on top of an earlier one
of the same aggregate that is still queued or in flight (`after`, that one's future). Its expected
sequence is known only once that one is stored: in the same atomic batch it needs none (the batch is
all or nothing and nothing can come between), in a later batch it is the earlier event's sequence; if
the earlier one was refused or failed, so is this one (ConcurrencyConflict: decided on a state that
never was), and its command is decided again on fresh state.
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from shared.appendfailures import ConcurrencyConflict


@dataclass(slots=True)
class _Pending:
    subject: str
    env: dict[str, Any]
    expected: int
    future: asyncio.Future
    after: asyncio.Future | None = None  # the same aggregate's earlier event, not yet stored when queued


class GroupCommit:
    """The append queue of one county."""

    def __init__(self, max_batch: int,
                 publish_batch: Callable[[list[tuple[str, dict, int | None]]], Awaitable[list]],
                 publish_single: Callable[[str, dict, int], Awaitable[Any]],
                 refused: tuple[type[BaseException], ...], on_batch: Callable[[int], Any] | None = None):
        self.max_batch = max_batch
        self._on_batch = on_batch  # told each batch's size (the metrics histogram)
        self._refused = refused  # a batch refused with one of these stored nothing
        self._publish_batch = publish_batch
        self._publish_single = publish_single
        self._queue: list[_Pending] = []
        self._worker: asyncio.Task | None = None
        self.batches = 0   # figures for health and benchmarks
        self.events = 0
        self.busy_s = 0.0  # time with a batch in flight

    async def append(self, subject: str, env: dict[str, Any], expected: int):
        return await self.enqueue(subject, env, expected)

    def enqueue(self, subject: str, env: dict[str, Any], expected: int,
                after: asyncio.Future | None = None) -> asyncio.Future:
        """Queue one event; the future is its Appended once stored. `after`: the future of the same
        subject's earlier event still pending (then `expected` is not used)."""
        future = asyncio.get_running_loop().create_future()
        self._queue.append(_Pending(subject, env, expected, future, after))
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._work())
        return future

    def figures(self) -> dict[str, float]:
        return {"events": self.events, "batches": self.batches, "busy_s": round(self.busy_s, 3),
                "mean_batch": round(self.events / self.batches, 1) if self.batches else 0.0}

    async def _work(self) -> None:
        while self._queue:
            batch, self._queue = self._queue[:self.max_batch], self._queue[self.max_batch:]
            self.batches += 1
            self.events += len(batch)
            if self._on_batch:
                self._on_batch(len(batch))
            started = time.perf_counter()
            try:
                await self._flush(batch)
            finally:
                self.busy_s += time.perf_counter() - started

    def _expected(self, p: _Pending, batch: set[asyncio.Future]) -> tuple[bool, int | None]:
        """(publishable, expected sequence): after an earlier event of the same batch none is needed;
        after one already stored, its sequence; after one refused or failed, not publishable."""
        if p.after is None:
            return True, p.expected
        if p.after in batch:
            return True, None
        if p.after.done() and not p.after.cancelled() and p.after.exception() is None:
            return True, p.after.result().seq
        if not p.future.done():
            p.future.set_exception(ConcurrencyConflict(p.subject))
        return False, None

    async def _flush(self, batch: list[_Pending]) -> None:
        futures = {p.future for p in batch}
        items = []
        for p in batch:
            publishable, expected = self._expected(p, futures)
            if publishable:
                items.append((p, expected))
            else:
                futures.discard(p.future)  # an event after it in this batch fails as well
        batch = [p for p, _ in items]
        if len(batch) <= 1:
            await self._one_by_one(batch)
            return
        try:
            appended = await self._publish_batch([(p.subject, p.env, expected) for p, expected in items])
        except self._refused:
            await self._one_by_one(batch)  # refused as a whole, nothing stored: each on its own
            return
        except BaseException as exc:  # timeout (outcome unknown), no county, connection lost
            for p in batch:
                if not p.future.done():
                    p.future.set_exception(exc)
            if isinstance(exc, asyncio.CancelledError):
                raise
            return  # the worker goes on with what queued meanwhile
        for p, app in zip(batch, appended):
            if not p.future.done():
                p.future.set_result(app)

    async def _one_by_one(self, batch: list[_Pending]) -> None:
        """Each event on its own, concurrently; an event after an earlier one of the batch waits for it."""
        while batch:
            ready = [p for p in batch if p.after is None or p.after.done()]
            batch = [p for p in batch if not (p.after is None or p.after.done())]
            if not ready:  # cannot happen (an event's predecessor is queued before it); never spin
                for p in batch:
                    p.future.done() or p.future.set_exception(ConcurrencyConflict(p.subject))
                return
            publish = [(p, expected) for p in ready for ok, expected in [self._expected(p, set())] if ok]
            results = await asyncio.gather(*(self._publish_single(p.subject, p.env, expected)
                                             for p, expected in publish), return_exceptions=True)
            for (p, _), result in zip(publish, results):
                if p.future.done():
                    continue
                if isinstance(result, BaseException):
                    p.future.set_exception(result)
                else:
                    p.future.set_result(result)

