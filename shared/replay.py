"""Replay for rebuilds: read a county's log from sequence 1 up to a known end, as fast as NATS delivers it,
and hand big batches to the projection's rebuild fold (docs/decisions/007-rebuild-fold.md).

Each of the projection's subjects is read by an ephemeral pull consumer with AckPolicy.NONE and that one
filter: nothing to acknowledge, no checkpoint per batch, and the server forgets it if this process dies.
(One consumer with several filters would keep the order itself, but nats-server finds its next message
by walking the subjects of every block: over a county's tens of thousands of member subjects that cost the
server more CPU than the whole fold.) The readers' messages are merged by stream sequence. Each
message's reply subject carries its stream sequence, its consumer sequence (contiguous from 1, so a
lost message is detected, never skipped) and how many matching messages are still pending (0: this is
the last one the stream holds).
"""
from __future__ import annotations

import asyncio
import bisect
import contextlib
import gc
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from itertools import chain
from typing import TYPE_CHECKING, Protocol

import orjson
import structlog
from nats.aio.client import NATS_HDR_LINE_SIZE, Client as NATS
from nats.protocol.parser import Parser
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError
from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from shared import bus
from shared.envelope import MalformedEvent, StoredEvent, decode_parsed, parse_envelope
from shared.eventstore import stream_name

if TYPE_CHECKING:
    from shared.projection import Projection

log = structlog.get_logger(__name__)

PULL = 5_000            # messages per pull request
BUFFERED = 4 * PULL     # no new request while this many are received but not folded (bounds memory)
FOLD_BATCH = 10_000     # events per rebuild-fold call (one transaction)
STALL_S = 30.0          # nothing received for this long while events are due: the rebuild fails


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


def reply_tokens(reply: str) -> tuple[int, int, int]:
    """(stream seq, consumer seq, pending) from a JetStream reply subject:
    $JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>  (v1)
    $JS.ACK.<domain>.<account>.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>.<token>  (v2)"""
    t = reply.split(".")
    i = 5 if len(t) == 9 else 7
    return int(t[i]), int(t[i + 1]), int(t[i + 3])


class _ReplayClient(NATS):
    """The replay's own connection: a burst of hundreds of thousands of messages then never queues in front
    of the service's requests on its shared connection. nats-py parses every message's headers into a
    dict (~7 µs a message, a fifth of the replay's CPU); the replay reads none of them, only the status
    line of pull responses (408, 409), so data messages skip it and carry `headers=None`. Data messages
    of the readers' subscriptions (`direct`) skip the Msg object, queue and task hop as well: they go
    straight from the protocol parser to their reader."""

    def __init__(self) -> None:
        super().__init__()
        self.direct: dict[int, Callable[[str, str, bytes], Awaitable[None]]] = {}  # subscription id -> sink
        self._ps = _ReplayParser(self)

    async def _process_headers(self, headers):  # nats-py 2.16 hook, called for every message with headers
        if headers and headers[NATS_HDR_LINE_SIZE] == _STATUS_SPACE:  # "NATS/1.0 408 ...": a status line
            return await super()._process_headers(headers)
        return None

    async def _process_msg(self, sid, subject, reply, data, headers):  # nats-py 2.16 hook, every message
        sink = self.direct.get(sid)
        if sink is None or not data:  # status lines and other subscriptions go the ordinary way
            return await super()._process_msg(sid, subject, reply, data, headers)
        await sink(subject.decode(), reply.decode(), data)


_STATUS_SPACE = ord(" ")


class _ReplayParser(Parser):
    """The replay connection's protocol parser. nats-py's parser tries a regular expression per operation
    and moves every message through a growing bytearray (~3.5 µs a replayed message, measured); here each
    chunk read from the socket is walked once with find/split (~1.5 µs), and a reader's data message goes
    straight to its sink. Every other operation (status lines, PING, INFO, -ERR, other subscriptions'
    messages) is handed whole, exactly as received, to nats-py's parser, so its handling is unchanged.
    An operation cut off at the end of a chunk waits for the next one."""

    def reset(self) -> None:
        super().reset()
        self._rest = b""

    async def parse(self, data: bytes = b"") -> None:
        buf = self._rest + data if self._rest else bytes(data)
        direct, n, pos = self.nc.direct, len(buf), 0
        while pos < n:
            eol = buf.find(b"\r\n", pos)
            if eol < 0:
                break
            end = eol + 2
            if buf.startswith(b"HMSG ", pos) or buf.startswith(b"MSG ", pos):
                args = buf[pos:eol].split()  # [H]MSG <subject> <sid> [reply] [<header bytes>] <total bytes>
                end += int(args[-1]) + 2
                if end > n:
                    break
                if len(args) == 6 and (sink := direct.get(int(args[2]))) is not None:
                    start = eol + 2 + int(args[4])  # payload after the headers
                    if start < end - 2:  # not a status line (headers only)
                        await sink(args[1].decode(), args[3].decode(), buf[start:end - 2])
                        pos = end
                        continue
            await super().parse(buf[pos:end])
            pos = end
        self._rest = buf[pos:]


async def _replay_connection(nc: NATS) -> NATS | None:
    """A second connection to the server `nc` is connected to (same URL, so the same credentials and TLS
    as the service's); None if it cannot be opened — the replay then shares `nc`."""
    url = nc.connected_url
    if url is None:
        return None
    client = _ReplayClient()
    try:
        await client.connect(servers=[url.geturl()], name="dangjian-rebuild-replay", connect_timeout=5,
                             allow_reconnect=False, **bus.same_identity(nc))
    except Exception as exc:  # e.g. credentials passed as options rather than in the URL
        log.warning("replay.own_connection_failed", error=str(exc))
        return None
    return client


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
        if isinstance(m.nc, _ReplayClient):
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


class _Decoder:
    """Turns replayed messages into the events a projection folds, in order.

    As the live runner does: every envelope is checked, only `handles` types are validated, unknown types
    are skipped, and a malformed event stops the rebuild with its sequence."""

    def __init__(self, handles: frozenset[str]):
        self.handles = handles

    def events(self, msgs: list[tuple[int, str, bytes]]) -> Iterator[StoredEvent]:
        """The batch's events, decoded one at a time as the fold consumes them (a decoded batch kept
        whole would be tens of thousands of live objects for the garbage collector to walk)."""
        handles = self.handles
        for seq, subject, data in msgs:
            try:
                env = parse_envelope(data)
                if env["type"] in handles:
                    ev = decode_parsed(seq, subject, env)
                    if ev.event is not None:
                        yield ev
            except MalformedEvent as exc:
                raise MalformedEvent(f"rebuild stopped at seq {seq}: {exc}") from None


async def replay(nc: NATS, engine: Engine, projection: "Projection", county: str, last: int, consumer: str,
                 batch: int = FOLD_BATCH) -> int:
    """Fold the county's log from sequence 1 up to `last` into the projection's (fresh, empty) tables
    through its rebuild fold; returns the checkpoint written with the last transaction, `last` (every
    matching event up to it is folded). The event loop keeps receiving while one worker thread decodes and
    folds a batch and another writes the previous one (see RebuildFold)."""
    from shared.projection import _write_checkpoint

    own = await _replay_connection(nc)
    source = MergedLog(own or nc, county, projection.subjects, consumer, last)
    decoder = _Decoder(projection.handles)
    conn = writing = None
    try:
        _fewer_collections(+1)
        await source.start()
        conn = await asyncio.to_thread(engine.connect)
        fold = projection.rebuild_fold(conn, county)
        while last and (msgs := await source.take(batch)):
            writes = await asyncio.to_thread(fold.fold, decoder.events(msgs))
            if writing is not None:
                await writing  # one batch written at a time, in order
            writing = asyncio.ensure_future(asyncio.to_thread(_write, conn, writes))
        if writing is not None:
            await writing
        checkpoint = last  # every matching event up to it is folded; later ones are the catch-up's

        def finish() -> None:
            with conn.begin():
                fold.finish()
                _write_checkpoint(conn, projection.checkpoint_name, county, checkpoint)

        await asyncio.to_thread(finish)
        return checkpoint
    finally:
        _fewer_collections(-1)
        if writing is not None:  # a failed fold: the connection may still be in use by the last write
            await asyncio.wait([writing])
            if not writing.cancelled():
                writing.exception()  # retrieved: the fold's error is the one that propagates
        await source.stop()
        if conn is not None:
            await asyncio.to_thread(conn.close)
        if own is not None:
            await own.close()


_replays_running = 0
_thresholds: tuple[int, int, int] | None = None


def _fewer_collections(change: int) -> None:
    """While replays run, the cyclic garbage collector starts a young collection after 50,000 new
    objects instead of 700: a replay allocates millions of short-lived ones (freed by reference counting
    anyway), and the frequent collections, each promoting the batch in hand, cost ~10% of its CPU.
    Process-wide, so counted: the first replay raises the threshold, the last one restores it."""
    global _replays_running, _thresholds
    if change > 0 and _replays_running == 0:
        _thresholds = gc.get_threshold()
        gc.set_threshold(max(_thresholds[0], 50_000), *_thresholds[1:])
    _replays_running += change
    if change < 0 and _replays_running == 0 and _thresholds is not None:
        gc.set_threshold(*_thresholds)


def _write(conn: Connection, writes: Callable[[], None] | None) -> None:
    if writes is not None:
        with conn.begin():
            writes()
