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
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any


@dataclass(slots=True)
class _Pending:
    subject: str
    env: dict[str, Any]
    expected: int
    future: asyncio.Future


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
        future = asyncio.get_running_loop().create_future()
        self._queue.append(_Pending(subject, env, expected, future))
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._work())
        return await future

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

    async def _flush(self, batch: list[_Pending]) -> None:
        if len(batch) == 1:
            await self._one_by_one(batch)
            return
        try:
            appended = await self._publish_batch([(p.subject, p.env, p.expected) for p in batch])
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
        results = await asyncio.gather(*(self._publish_single(p.subject, p.env, p.expected) for p in batch),
                                       return_exceptions=True)
        for p, result in zip(batch, results):
            if p.future.done():
                continue
            if isinstance(result, BaseException):
                p.future.set_exception(result)
            else:
                p.future.set_result(result)

