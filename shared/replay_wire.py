"""The rebuild replay's own NATS connection: a second connection to the service's server whose protocol
parser hands each replayed data message straight to its reader, skipping what nats-py does per message
that a replay does not need (header parsing, Msg objects, a queue and a task hop). Status lines and every
other operation still go through nats-py unchanged."""
from __future__ import annotations

from collections.abc import Awaitable, Callable

import structlog
from nats.aio.client import NATS_HDR_LINE_SIZE, Client as NATS
from nats.protocol.parser import Parser

from shared import bus

log = structlog.get_logger(__name__)


class ReplayClient(NATS):
    """The replay's own connection: a burst of hundreds of thousands of messages then never queues in front
    of the service's requests on its shared connection. nats-py parses every message's headers into a
    dict (~7 µs a message, a fifth of the replay's CPU); the replay reads none of them, only the status
    line of pull responses (408, 409), so data messages skip it and carry `headers=None`. Data messages
    of the readers' subscriptions (`direct`) skip the Msg object, queue and task hop as well: they go
    straight from the protocol parser to their reader."""

    def __init__(self) -> None:
        super().__init__()
        self.direct: dict[int, Callable[[str, str, bytes], Awaitable[None]]] = {}  # subscription id -> sink
        self._ps = ReplayParser(self)

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


class ReplayParser(Parser):
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


async def replay_connection(nc: NATS) -> NATS | None:
    """A second connection to the server `nc` is connected to (same URL, so the same credentials and TLS
    as the service's); None if it cannot be opened — the replay then shares `nc`."""
    url = nc.connected_url
    if url is None:
        return None
    client = ReplayClient()
    try:
        await client.connect(servers=[url.geturl()], name="dangjian-rebuild-replay", connect_timeout=5,
                             allow_reconnect=False, **bus.same_identity(nc))
    except Exception as exc:  # e.g. the server refuses a second connection
        log.warning("replay.own_connection_failed", error=str(exc))
        return None
    return client
