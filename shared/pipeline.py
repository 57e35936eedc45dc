"""Pipelined request dispatch: one ordered intake per subject, each request completed on its own.

FastStream's concurrent subscriber (`max_workers` > 1) costs ~0.29 ms of CPU per request before any work —
an anyio task group's task, two semaphore hops, a memory stream, and a reply sent through FastStream's
response publisher — against ~0.10 ms for its ordered subscriber (issue 15). So every request subject is
subscribed with ONE ordered worker (FastStream still runs it and documents it in AsyncAPI), whose handler
does only `submit`: it starts the request's answer as a plain asyncio task and takes the next message at
once, without waiting for the answer. Tasks start in arrival order, so each command is decided in the order
it came, on the aggregate's cached state, and hands its event to the county's group commit before the next
command is looked at; many commands' events thus share one batch and one fsync. The reply is sent by the
task itself (`msg.respond`) when the answer is ready — for a command, after its batch was acknowledged, so a
reply never leaves before its event is stored; a refused batch is decided again by the executor
(shared/aggregate.py) as before. At most `limit` answers are in flight: beyond that the intake waits, and
NATS holds the rest (backpressure, as FastStream's semaphore did). See docs/decisions/021-performance.md.
"""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import structlog

log = structlog.get_logger(__name__)
Answer = Callable[[str, Any, Any], Awaitable[dict | None]]  # (county, body, route) -> reply, None: none


class Pipeline:
    """The requests of one service instance in flight (shared by all its subjects)."""

    def __init__(self, answer: Answer, encode: Callable[[Any], bytes], limit: int):
        self._answer, self._encode, self.limit = answer, encode, limit
        self._tasks: set[asyncio.Task] = set()
        self._room: asyncio.Future | None = None  # set while the intake waits for an answer to finish

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    async def submit(self, county: str, body: Any, route: Any, msg: Any) -> None:
        """Start answering one request (`msg`: the raw nats-py message, answered on its reply subject)."""
        while len(self._tasks) >= self.limit:
            if self._room is None or self._room.done():
                self._room = asyncio.get_running_loop().create_future()
            await asyncio.shield(self._room)
        task = asyncio.create_task(self._run(county, body, route, msg))
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if self._room is not None and not self._room.done():
            self._room.set_result(None)

    async def _run(self, county: str, body: Any, route: Any, msg: Any) -> None:
        reply = await self._answer(county, body, route)  # never raises: every failure is an error reply
        if reply is None or not msg.reply:  # None: the requester's deadline passed (shared/deadline.py)
            return
        try:
            await msg.respond(self._encode(reply))
        except Exception as exc:  # connection closing: the caller times out and retries with its key
            log.warning("reply.failed", subject=msg.subject, error=str(exc))

    async def drain(self, timeout: float) -> None:
        """Let the answers in flight finish (stopping): their replies still go out."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)
