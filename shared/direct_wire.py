"""Reading a whole county log with batched Direct Get over a connection of its own, for `dangjian audit
verify` and `export` and the as-of star distribution (docs/decisions/016-audit-log.md).

nats-py turns every message into a header dict (its header parser walks each name character by
character), a Msg object, a queue entry and a task hop: for a million-event log that was most of the
read. Here the protocol parser hands each Direct Get reply's header block and payload straight to the
reader, which takes the three headers it needs (Nats-Sequence, Nats-Subject, Nats-Num-Pending) with
`find`. Everything else on the connection (PING, INFO, errors) goes to nats-py's parser unchanged.
"""
from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import orjson
import structlog
from nats.aio.client import Client as NATS
from nats.js.errors import APIError
from nats.protocol.parser import Parser

from shared import bus
from shared.appendfailures import CountyNotFound

log = structlog.get_logger(__name__)
BATCH = 1000


class DirectClient(NATS):
    def __init__(self) -> None:
        super().__init__()
        self.sinks: dict[int, Any] = {}  # subscription id -> callable(header bytes, payload)
        self._ps = DirectParser(self)


class DirectParser(Parser):
    """Walks each chunk read from the socket once; an HMSG of a reader's subscription goes to its sink."""

    def reset(self) -> None:
        super().reset()
        self._rest = b""

    async def parse(self, data: bytes = b"") -> None:
        buf = self._rest + data if self._rest else bytes(data)
        sinks, n, pos = self.nc.sinks, len(buf), 0
        while pos < n:
            eol = buf.find(b"\r\n", pos)
            if eol < 0:
                break
            end = eol + 2
            if buf.startswith(b"HMSG ", pos):
                args = buf[pos:eol].split()  # HMSG <subject> <sid> [reply] <header bytes> <total bytes>
                end += int(args[-1]) + 2
                if end > n:
                    break
                if (sink := sinks.get(int(args[2]))) is not None:
                    headers_end = eol + 2 + int(args[-2])
                    sink(buf[eol + 2:headers_end], buf[headers_end:end - 2])
                    pos = end
                    continue
            await super().parse(buf[pos:end])
            pos = end
        self._rest = buf[pos:]


def _header(block: bytes, name: bytes) -> bytes | None:
    at = block.find(b"\r\n" + name + b":")
    if at < 0:
        return None
    start = at + len(name) + 3
    return block[start:block.find(b"\r\n", start)].strip()


class _Batch:
    """One Direct Get batch as it arrives: its messages, then the status that ends it."""

    def __init__(self) -> None:
        self.got: list[tuple[int, str, bytes]] = []
        self.status: bytes | None = None
        self.done = asyncio.Event()

    def __call__(self, block: bytes, payload: bytes) -> None:
        if block[8:9] == b" ":  # "NATS/1.0 204 EOB": a status line ends the batch (or answers nothing)
            self.status = block[9:12]
            self.done.set()
            return
        self.got.append((int(_header(block, b"Nats-Sequence")), _header(block, b"Nats-Subject").decode(), payload))


async def direct_batches(client: DirectClient, county: str, subject: str, start_seq: int = 1,
                         timeout: float = 10.0) -> AsyncIterator[list[tuple[int, str, bytes]]]:
    """(seq, subject, payload) of the county's events matching `subject` from `start_seq`, a batch at a time."""
    inbox = client.new_inbox()
    sub = await client.subscribe(inbox)
    try:
        seq = start_seq
        while True:
            batch = _Batch()
            client.sinks[sub._id] = batch
            await client.publish(f"$JS.API.DIRECT.GET.PB_{county}", orjson.dumps(
                {"next_by_subj": subject, "batch": BATCH, "seq": seq}), reply=inbox)
            await asyncio.wait_for(batch.done.wait(), timeout)
            if batch.status == b"503":
                raise CountyNotFound(county)
            if batch.status not in (b"204", b"404"):
                raise APIError(description=f"direct get on county {county}: status {batch.status!r}")
            if batch.got:
                yield batch.got
            if len(batch.got) < BATCH:  # a short batch (or 404: nothing from here) is the end
                return
            seq = batch.got[-1][0] + 1
    finally:
        client.sinks.pop(sub._id, None)
        with contextlib.suppress(Exception):  # the connection may be closing already
            await sub.unsubscribe()


async def read_log(store: Any, county: str, subject: str | None = None) -> AsyncIterator[tuple[int, str, bytes]]:
    """The county's whole log (or what matches `subject`), (seq, subject, body) in order: over a connection
    of its own when one can be opened (a few ms: for long reads), else the store's ordinary read."""
    subject = subject or f"pb.{county}.evt.>"
    client = await direct_connection(store.nc)
    if client is None:
        async for raw in store._direct_batches(county, subject, 1):
            yield raw
        return
    try:
        async with contextlib.aclosing(direct_batches(client, county, subject)) as batches:  # ended before close
            async for batch in batches:
                for raw in batch:
                    yield raw
    finally:
        await client.close()


async def direct_connection(nc: NATS) -> DirectClient | None:
    """A second connection with `nc`'s server and credential; None if it cannot be opened."""
    url = nc.connected_url
    if url is None:
        return None
    client = DirectClient()
    try:
        await client.connect(servers=[url.geturl()], name="dangjian-audit-read", connect_timeout=5,
                             allow_reconnect=False, **bus.same_identity(nc))
    except Exception as exc:
        log.warning("direct_read.own_connection_failed", error=str(exc))
        return None
    return client
