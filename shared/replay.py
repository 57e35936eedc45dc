"""Replay for rebuilds: read a county's log from sequence 1 up to a known end, as fast as NATS delivers it,
and hand big batches to the projection's rebuild fold (docs/decisions/007-rebuild-fold.md).

Each of the projection's subjects is read by an ephemeral pull consumer with AckPolicy.NONE and that one
filter: nothing to acknowledge, no checkpoint per batch, and the server forgets it if this process dies.
(One consumer with several filters would keep the order itself, but nats-server finds its next message
by walking the subjects of every block: over a county's tens of thousands of member subjects that cost the
server more CPU than the whole fold.) The readers' messages are merged by stream sequence
(shared/replay_log.py), over a connection of the replay's own (shared/replay_wire.py).
"""
from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable, Iterator
from typing import Any

from nats.aio.client import Client as NATS
from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from shared.checkpoints import write_checkpoint
from shared.envelope import MalformedEvent, StoredEvent, decode_parsed, decode_wire, parse_envelope
from shared.projection import Projection
from shared.replay_log import MergedLog
from shared.replay_wire import replay_connection

FOLD_BATCH = 10_000     # events per rebuild-fold call (one transaction)


class _Decoder:
    """Turns replayed messages into the events a projection folds, in order.

    As the live runner does: every envelope is checked, only `handles` types are validated, unknown types
    are skipped, and a malformed event stops the rebuild with its sequence. With an authenticator each
    event's hash, key and link to its aggregate's previous event are checked as it comes, and the
    signature of each aggregate's last event at the end, before anything is swapped in: a valid head
    vouches for the intact chain below it (shared/verify.py), at one Ed25519 check per aggregate."""

    def __init__(self, handles: frozenset[str], county: str = "", authenticator: Any = None,
                 keeps_unknown: bool = False):
        self.handles, self.keeps_unknown = handles, keeps_unknown
        self.chains = authenticator.chains(county) if authenticator is not None else None

    def check_heads(self) -> None:
        try:
            self.chains.finish()
        except MalformedEvent as exc:
            raise MalformedEvent(f"rebuild stopped: {exc}") from None

    def events(self, msgs: list[tuple[int, str, bytes]]) -> Iterator[StoredEvent]:
        """The batch's events, decoded one at a time as the fold consumes them (a decoded batch kept
        whole would be tens of thousands of live objects for the garbage collector to walk)."""
        handles, chains = self.handles, self.chains
        one_pass = chains is None and not self.keeps_unknown
        for seq, subject, data in msgs:
            try:
                if one_pass:  # nothing needs the envelope as a dict: decoded from bytes in one pass
                    ev = decode_wire(seq, subject, data, handles)
                    if ev is not None:
                        yield ev
                    continue
                env = parse_envelope(data)
                if chains is not None:
                    chains.feed(seq, subject, env)
                if env["type"] in handles:
                    ev = decode_parsed(seq, subject, env)
                    if ev.event is not None or self.keeps_unknown:
                        yield ev
            except MalformedEvent as exc:
                raise MalformedEvent(f"rebuild stopped at seq {seq}: {exc}") from None


async def replay(nc: NATS, engine: Engine, projection: Projection, county: str, last: int, consumer: str,
                 batch: int = FOLD_BATCH, authenticator: Any = None,
                 progress: Callable[[int, int], None] | None = None) -> int:
    """Fold the county's log from sequence 1 up to `last` into the projection's (fresh, empty) tables
    through its rebuild fold; returns the checkpoint written with the last transaction, `last` (every
    matching event up to it is folded). The event loop keeps receiving while one worker thread decodes and
    folds a batch and another writes the previous one (see RebuildFold)."""
    own = await replay_connection(nc)
    source = MergedLog(own or nc, county, projection.subjects, consumer, last)
    decoder = _Decoder(projection.handles, county, authenticator, projection.keeps_unknown)
    if authenticator is not None:
        await authenticator.prime(county)
    conn = writing = None
    try:
        _fewer_collections(+1)
        await source.start()
        conn = await asyncio.to_thread(engine.connect)
        fold = projection.rebuild_fold(conn, county)
        while last and (msgs := await source.take(batch)):
            writes = await asyncio.to_thread(fold.fold, decoder.events(msgs))
            if progress:  # stream sequences folded of `last` (events of other subjects are skipped by the server)
                progress(msgs[-1][0], last)
            if writing is not None:
                await writing  # one batch written at a time, in order
            writing = asyncio.ensure_future(asyncio.to_thread(_write, conn, writes))
        if writing is not None:
            await writing
        if authenticator is not None:
            await asyncio.to_thread(decoder.check_heads)
        checkpoint = last  # every matching event up to it is folded; later ones are the catch-up's

        def finish() -> None:
            with conn.begin():
                fold.finish()
                write_checkpoint(conn, projection.checkpoint_name, county, checkpoint,
                                 schema_version=projection.schema_version)

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
_was_enabled = False


def _fewer_collections(change: int) -> None:
    """While replays run, the cyclic garbage collector does not run on its own: a replay allocates
    millions of short-lived objects (freed by reference counting; a replay makes no cycles), and each
    collection walks the young objects and, more and more often, the fold's growing in-memory state —
    ~3 µs of CPU per replayed event even with a young threshold of 50,000 (docs/decisions/021-performance.md).
    Process-wide, so counted: the first replay disables it, the last one re-enables it (cycles the rest
    of the process made meanwhile go with its next collection)."""
    global _replays_running, _was_enabled
    if change > 0 and _replays_running == 0:
        _was_enabled = gc.isenabled()
        gc.disable()
    _replays_running += change
    if change < 0 and _replays_running == 0 and _was_enabled:
        gc.enable()


def _write(conn: Connection, writes: Callable[[], None] | None) -> None:
    if writes is not None:
        with conn.begin():
            writes()
