"""Concurrent single scores of one caller coalesced into one record_scores request.

Every single score costs a NATS request, a token check and a pass through FastStream in the service; a
caller posting many scores at once (an integration, a busy operator's browser) pays that per score. So
scores queue per (county, token): one request is in flight at a time (up to IN_FLIGHT while many wait)
and whatever queued meanwhile goes as the next one, up to MAX_BATCH entries — like the group commit of appends (decision 008), a lone score goes
out at once as a plain record_score and waits for nothing. Each entry is still decided, validated, scoped
and idempotent on its own in the service (record_scores, services/ratings/bulk.py); each HTTP caller gets
its own entry's answer, or its own refusal. Only scores of the same token share a request: the service
acts for the actor the token names, so callers never act under each other's scope.

What is shared: the stream sequence answered (the request's last write: at least the entry's own, so
read-your-writes holds) and the correlation id carried into the events (the first queued request's).
"""
from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from services.gateway.client import Reply, ServiceClient
from shared.auth import Actor
from shared.errors import DomainError

MAX_BATCH = 500
IN_FLIGHT, SPREAD_AT = 4, 16


class ScoreCoalescer:
    """`in_flight`: requests of one (county, token) at once — a second one starts only while `spread_at`
    scores wait behind the first: a round trip (with its fsync) takes the same time for 1 or 500 entries,
    so under heavy load several rounds overlap, and when quiet scores still share one request."""

    def __init__(self, client: Callable[[], ServiceClient], max_batch: int = MAX_BATCH,
                 in_flight: int = IN_FLIGHT, spread_at: int = SPREAD_AT):
        self._client, self.max_batch = client, max_batch  # the app's client, connected in its lifespan
        self.in_flight, self.spread_at = in_flight, spread_at
        self._queues: dict[tuple[str, str], list[tuple[dict, str | None, asyncio.Future]]] = {}
        self._workers: dict[tuple[str, str], set[asyncio.Task]] = {}
        self.requests = self.entries = 0  # figures: record_scores requests sent, entries they carried

    async def record(self, county: str, actor: Actor, data: dict[str, Any], correlation_id: str | None) -> Reply:
        key = (county, actor.token)
        future = asyncio.get_running_loop().create_future()
        queue = self._queues.setdefault(key, [])
        queue.append((data, correlation_id, future))
        workers = self._workers.setdefault(key, set())
        if not workers or len(workers) < self.in_flight and len(queue) >= self.spread_at:
            task = asyncio.create_task(self._work(key, county, actor))
            workers.add(task)
        return await future

    async def _work(self, key: tuple[str, str], county: str, actor: Actor) -> None:
        try:
            while queue := self._queues.get(key):
                batch, self._queues[key] = queue[:self.max_batch], queue[self.max_batch:]
                await self._send(batch, county, actor)
        finally:
            workers = self._workers.get(key, set())
            workers.discard(asyncio.current_task())
            if not workers and not self._queues.get(key):
                self._queues.pop(key, None)
                self._workers.pop(key, None)

    async def _send(self, batch: list[tuple[dict, str | None, asyncio.Future]], county: str, actor: Actor) -> None:
        correlation_id = batch[0][1]
        try:
            if len(batch) == 1:
                reply = await self._client().command(county, "ratings", "record_score", actor, batch[0][0],
                                                  correlation_id=correlation_id)
                _settle(batch[0][2], reply)
                return
            client = self._client()
            reply = await client.command(county, "ratings", "record_scores", actor,
                                         {"scores": [data for data, _, _ in batch]}, correlation_id=correlation_id,
                                         timeout=client.timeout * 3)  # up to 500 entries: one atomic batch
            self.requests += 1
            self.entries += len(batch)
            for (_, _, future), result in zip(batch, reply.data["results"]):
                if result["ok"]:
                    _settle(future, Reply({"score_id": result["score_id"], "replayed": result["replayed"]}, reply.seq))
                else:
                    _settle(future, DomainError.from_dict(result["error"]))
        except Exception as exc:  # refused or unanswered as a whole (503, 413, ...): every caller hears it
            for _, _, future in batch:
                _settle(future, exc)


def _settle(future: asyncio.Future, outcome: Any) -> None:
    if future.done():  # its HTTP caller went away
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)
