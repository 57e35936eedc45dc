"""The rebuild replay's ordered read of a county's log: one ephemeral pull consumer per subject filter of
the projection, their messages merged by stream sequence (why one consumer per filter: shared/replay.py).

Each message's reply subject carries its stream sequence, its consumer sequence (contiguous from 1, so a
lost message is detected, never skipped) and how many matching messages are still pending (0: this is
the last one the stream holds).
"""
from __future__ import annotations

import asyncio
import bisect
import contextlib
from collections.abc import Sequence
from itertools import chain

import orjson
from nats.aio.client import Client as NATS
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

from shared.acks import reply_tokens
from shared.eventstore import stream_name
from shared.replay_wire import ReplayClient

PULL = 5_000            # messages per pull request
BUFFERED = 4 * PULL     # no new request while this many are received but not folded (bounds memory)
STALL_S = 30.0          # nothing received for this long while events are due: the rebuild fails


class LogReader:
    """One subject filter's messages of a county's log in stream order from sequence 1, as (stream seq,
    subject, data) — pulled as fast as the merge lets them be held (`MergedLog` decides when to ask)."""

    def __init__(self, merged: "MergedLog", subject: str, name: str):
        self.merged, self.name = merged, name
        self.filter_subject = f"pb.{merged.county}.evt.{subject}"
        self.buffer: list[tuple[int, str, bytes]] = []
        self.received = 0          # stream sequence of the last message received
        self.done = False          # its last message up to the end of the replay was received
        self.error: Exception | None = None
        self._cseq = 0
        self.outstanding = 0
        self._sub = None

    async def start(self) -> None:
        m = self.merged
        with contextlib.suppress(NotFoundError):
            await m.js.delete_consumer(m.stream, self.name)  # left over by a rebuild that died
        info = await m.js.add_consumer(m.stream, ConsumerConfig(
            name=self.name, deliver_policy=DeliverPolicy.ALL, ack_policy=AckPolicy.NONE,
            filter_subject=self.filter_subject, inactive_threshold=300.0, max_waiting=8,
            description=f"rebuild replay of county {m.county}"))
        self.done = info.num_pending == 0
        self._inbox = m.nc.new_inbox()
        self._sub = await m.nc.subscribe(self._inbox, cb=self._on_msg, pending_msgs_limit=BUFFERED + 3 * PULL,
                                         pending_bytes_limit=1024 * 1024 * 1024)
        if isinstance(m.nc, ReplayClient):
            m.nc.direct[self._sub._id] = self._on_data

    async def stop(self) -> None:
        m = self.merged
        if self._sub is not None:
            with contextlib.suppress(Exception):
                await self._sub.unsubscribe()
            self._sub = None
        with contextlib.suppress(Exception):
            await m.js.delete_consumer(m.stream, self.name)

    async def _on_msg(self, msg) -> None:
        """Status lines; data messages too when the replay shares the service's connection."""
        if not msg.data and msg.headers and msg.headers.get("Status"):
            if msg.headers["Status"] in ("408", "409"):  # request expired / server-side reset: ask again
                left = msg.headers.get("Nats-Pending-Messages")
                self.outstanding = max(0, self.outstanding - int(left)) if left else 0
                self.merged.arrived.set()
            return
        await self._on_data(msg.subject, msg.reply, msg.data)

    async def _on_data(self, subject: str, reply: str, data: bytes) -> None:
        m = self.merged
        self.outstanding -= 1
        seq, cseq, pending = reply_tokens(reply)
        if cseq != self._cseq + 1:
            self.error = RuntimeError(f"rebuild replay lost messages: consumer sequence {cseq} after {self._cseq}")
        self._cseq, self.received = cseq, seq
        # kept as a plain tuple: thousands of buffered tuples of strings are nothing for the garbage
        # collector to walk
        self.buffer.append((seq, subject, data))
        finished = not self.done and (pending == 0 or seq >= m.last)
        if finished:
            self.done = True  # later messages (appended meanwhile) are left to the final catch-up
        m.arrived.set()
        # a message moves one from asked to held: the budget is freed only by a take or a finished reader,
        # and this reader may ask again once less than a pull is on its way
        if finished or self.outstanding == PULL - 1:
            await m.top_up()

    async def request(self) -> None:
        m = self.merged
        self.outstanding += PULL
        await m.nc.publish(f"$JS.API.CONSUMER.MSG.NEXT.{m.stream}.{self.name}",
                           orjson.dumps({"batch": PULL, "expires": 10_000_000_000}), reply=self._inbox)

    def until(self, seq: int) -> list[tuple[int, str, bytes]]:
        """Takes the buffered messages up to stream sequence `seq`."""
        i = bisect.bisect_right(self.buffer, seq, key=_seq)
        taken, self.buffer = self.buffer[:i], self.buffer[i:]
        return taken


def _seq(message: tuple) -> int:
    return message[0]


class MergedLog:
    """A projection's matching messages of a county's log, one reader per subject filter merged in stream
    order, up to stream sequence `last`, as fast as they are folded.

    A message is handed on once every reader still reading has received one at or past its sequence (its
    readers deliver in stream order, so none can still bring an earlier one). At most BUFFERED messages
    are held or asked for across readers, except that a reader holding none may always have one pull
    outstanding: the merge waits for the reader that is furthest behind, so it must never be starved."""

    def __init__(self, nc: NATS, county: str, subjects: Sequence[str], name: str, last: int):
        self.nc, self.js = nc, nc.jetstream()
        self.county, self.last = county, last
        self.stream = stream_name(county)
        self.arrived = asyncio.Event()
        self.readers = [LogReader(self, s, name if len(subjects) == 1 else f"{name}_{i}")
                        for i, s in enumerate(subjects)]
        self.ready: list[tuple[int, str, bytes]] = []  # merged, in order, not yet taken

    async def start(self) -> None:
        for reader in self.readers:
            await reader.start()

    async def stop(self) -> None:
        for reader in self.readers:
            await reader.stop()

    async def top_up(self) -> None:
        reading = [r for r in self.readers if not r.done]
        held = len(self.ready) + sum(len(r.buffer) + r.outstanding for r in reading)
        for r in reading:
            while r.outstanding < PULL and (held < BUFFERED or not r.buffer):
                held += PULL
                await r.request()

    async def take(self, most: int) -> list[tuple[int, str, bytes]]:
        """Up to `most` messages in stream order, waiting for some; [] once every one up to `last` was taken."""
        while True:
            for reader in self.readers:
                if reader.error:
                    raise reader.error
            self._merge(most)
            taken, self.ready = self.ready[:most], self.ready[most:]
            await self.top_up()  # what is taken no longer counts: the server keeps sending during its fold
            if taken or all(r.done for r in self.readers):
                return taken
            self.arrived.clear()
            try:
                async with asyncio.timeout(STALL_S):
                    await self.arrived.wait()
            except TimeoutError:
                raise TimeoutError(f"rebuild replay of county {self.county}: nothing received for {STALL_S:.0f}s") \
                    from None

    def _merge(self, most: int) -> None:
        if len(self.ready) >= most:
            return
        safe = min([r.received for r in self.readers if not r.done] + [self.last])
        parts = [part for part in (r.until(safe) for r in self.readers) if part]
        self.ready += parts[0] if len(parts) == 1 else sorted(chain.from_iterable(parts), key=_seq)
