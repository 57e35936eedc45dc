"""Replay for rebuilds: read a county's log from sequence 1 up to a known end, as fast as NATS delivers it,
and hand big batches to the projection's rebuild fold (docs/decisions/007-rebuild-fold.md).

The reader is an ephemeral pull consumer with AckPolicy.NONE, filtered to the projection's subjects:
nothing to acknowledge, no checkpoint per batch, and the server forgets it if this process dies. Each
message's reply subject carries its stream sequence, its consumer sequence (contiguous from 1, so a
lost message is detected, never skipped) and how many matching messages are still pending (0: this is
the last one the stream holds).
"""
from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Protocol

import orjson
import structlog
from nats.aio.client import NATS_HDR_LINE_SIZE, Client as NATS
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError
from sqlalchemy import Engine
from sqlalchemy.engine import Connection

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

    `fold` runs once per batch inside its own transaction and consumes the batch's events once, as they
    are decoded; `finish` runs once at the end, in the transaction that also writes the checkpoint. Both
    run in a worker thread, in order, never concurrently."""

    def fold(self, events: Iterable[StoredEvent]) -> None: ...

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
    line of pull responses (408, 409), so data messages skip it and carry `headers=None`."""

    async def _process_headers(self, headers):  # nats-py 2.16 hook, called for every message with headers
        if headers and headers[NATS_HDR_LINE_SIZE] == _STATUS_SPACE:  # "NATS/1.0 408 ...": a status line
            return await super()._process_headers(headers)
        return None


_STATUS_SPACE = ord(" ")


async def _replay_connection(nc: NATS) -> NATS | None:
    """A second connection to the server `nc` is connected to (same URL, so the same credentials and TLS
    as the service's); None if it cannot be opened — the replay then shares `nc`."""
    url = nc.connected_url
    if url is None:
        return None
    client = _ReplayClient()
    try:
        await client.connect(servers=[url.geturl()], name="dangjian-rebuild-replay", connect_timeout=5,
                             allow_reconnect=False)
    except Exception as exc:  # e.g. credentials passed as options rather than in the URL
        log.warning("replay.own_connection_failed", error=str(exc))
        return None
    return client


class LogReader:
    """Delivers a county's matching events in stream order from sequence 1, as fast as they are folded."""

    def __init__(self, nc: NATS, county: str, subjects: Sequence[str], name: str):
        self.nc, self.js = nc, nc.jetstream()
        self.county, self.name = county, name
        self.filter_subjects = [f"pb.{county}.evt.{s}" for s in subjects]
        self.stream = stream_name(county)
        self.buffer: list = []
        self.expected = 0          # matching messages at start: 0 means there is nothing to read
        self._arrived = asyncio.Event()
        self._outstanding = 0
        self._sub = None

    async def start(self) -> None:
        with contextlib.suppress(NotFoundError):
            await self.js.delete_consumer(self.stream, self.name)  # left over by a rebuild that died
        info = await self.js.add_consumer(self.stream, ConsumerConfig(
            name=self.name, deliver_policy=DeliverPolicy.ALL, ack_policy=AckPolicy.NONE,
            filter_subjects=self.filter_subjects, inactive_threshold=300.0, max_waiting=8,
            description=f"rebuild replay of county {self.county}"))
        self.expected = info.num_pending
        self._inbox = self.nc.new_inbox()
        self._sub = await self.nc.subscribe(self._inbox, cb=self._on_msg, pending_msgs_limit=BUFFERED + 3 * PULL,
                                            pending_bytes_limit=1024 * 1024 * 1024)

    async def stop(self) -> None:
        if self._sub is not None:
            with contextlib.suppress(Exception):
                await self._sub.unsubscribe()
            self._sub = None
        with contextlib.suppress(Exception):
            await self.js.delete_consumer(self.stream, self.name)

    async def _on_msg(self, msg) -> None:
        if not msg.data and msg.headers and msg.headers.get("Status"):
            if msg.headers["Status"] in ("408", "409"):  # request expired / server-side reset: ask again
                left = msg.headers.get("Nats-Pending-Messages")
                self._outstanding = max(0, self._outstanding - int(left)) if left else 0
                self._arrived.set()
            return
        self._outstanding -= 1
        # kept as a plain tuple: the Msg object goes at once, and thousands of buffered tuples of
        # strings are nothing for the garbage collector to walk
        self.buffer.append((msg.subject, msg.reply, msg.data))
        self._arrived.set()
        if self._outstanding < PULL:
            await self._top_up()

    async def _top_up(self) -> None:
        """Keep the server sending while the fold works, up to BUFFERED messages received or on their way."""
        while self._outstanding < PULL and len(self.buffer) + self._outstanding < BUFFERED:
            self._outstanding += PULL
            await self.nc.publish(f"$JS.API.CONSUMER.MSG.NEXT.{self.stream}.{self.name}",
                                  orjson.dumps({"batch": PULL, "expires": 10_000_000_000}), reply=self._inbox)

    async def take(self, most: int) -> list:
        """Up to `most` received messages, waiting for some."""
        while True:
            await self._top_up()
            if self.buffer:
                msgs, self.buffer = self.buffer[:most], self.buffer[most:]
                return msgs
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), STALL_S)
            except TimeoutError:
                raise TimeoutError(f"rebuild replay of county {self.county}: nothing received for {STALL_S:.0f}s") \
                    from None


class _Decoder:
    """Turns replayed messages into the events a projection folds, in order, and says when the end is reached.

    As the live runner does: every envelope is checked, only `handles` types are validated, unknown types
    are skipped, and a malformed event stops the rebuild with its sequence."""

    def __init__(self, handles: frozenset[str], last: int):
        self.handles, self.last = handles, last
        self.cseq = 0            # consumer sequence of the last message taken
        self.seq = 0             # stream sequence of the last message taken
        self.done = False

    def events(self, msgs: list[tuple[str, str, bytes]]) -> Iterator[StoredEvent]:
        """The batch's events, decoded one at a time as the fold consumes them (a decoded batch kept
        whole would be tens of thousands of live objects for the garbage collector to walk)."""
        handles = self.handles
        for subject, reply, data in msgs:
            seq, cseq, pending = reply_tokens(reply)
            if cseq != self.cseq + 1:
                raise RuntimeError(f"rebuild replay lost messages: consumer sequence {cseq} after {self.cseq}")
            self.cseq, self.seq = cseq, seq
            try:
                env = parse_envelope(data)
                if env["type"] in handles:
                    ev = decode_parsed(seq, subject, env)
                    if ev.event is not None:
                        yield ev
            except MalformedEvent as exc:
                raise MalformedEvent(f"rebuild stopped at seq {seq}: {exc}") from None
            if pending == 0 or seq >= self.last:
                self.done = True  # later messages (appended meanwhile) are left to the final catch-up
                return


async def replay(nc: NATS, engine: Engine, projection: "Projection", county: str, last: int, consumer: str,
                 batch: int = FOLD_BATCH) -> int:
    """Fold the county's log from sequence 1 to at least `last` into the projection's (fresh, empty) tables
    through its rebuild fold; returns the checkpoint written with the last transaction (every matching
    event up to it is folded). Decoding and SQL run in a worker thread while the event loop keeps receiving."""
    from shared.projection import _write_checkpoint

    own = await _replay_connection(nc)
    reader = LogReader(own or nc, county, projection.subjects, consumer)
    decoder = _Decoder(projection.handles, last)
    conn = None
    try:
        _fewer_collections(+1)
        await reader.start()
        conn = await asyncio.to_thread(engine.connect)
        fold = projection.rebuild_fold(conn, county)
        if reader.expected and last:
            while not decoder.done:
                msgs = await reader.take(batch)
                await asyncio.to_thread(_fold_batch, conn, fold, decoder, msgs)
        checkpoint = max(decoder.seq, last)  # nothing matching lies between the last one delivered and `last`

        def finish() -> None:
            with conn.begin():
                fold.finish()
                _write_checkpoint(conn, projection.checkpoint_name, county, checkpoint)

        await asyncio.to_thread(finish)
        return checkpoint
    finally:
        _fewer_collections(-1)
        await reader.stop()
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


def _fold_batch(conn: Connection, fold: RebuildFold, decoder: _Decoder, msgs: list) -> None:
    with conn.begin():
        fold.fold(decoder.events(msgs))
