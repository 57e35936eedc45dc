"""The replay connection's protocol parser (shared/replay_wire.py ReplayParser): whatever way the socket cuts the
bytes, it hands every operation to nats-py's parser exactly as nats-py's parser alone would handle it,
except the data messages of the replay's readers, which go straight to their sink."""
import asyncio
import random

from nats.protocol.parser import Parser

from shared.replay_wire import ReplayParser


def hmsg(subject: str, sid: int, reply: str, headers: bytes, payload: bytes) -> bytes:
    return f"HMSG {subject} {sid} {reply} {len(headers)} {len(headers) + len(payload)}\r\n".encode() + \
        headers + payload + b"\r\n"


HEADERS = b"NATS/1.0\r\nNats-Msg-Id: e1\r\n\r\n"
OPS = [b'INFO {"server_id":"x"}\r\n', b"PONG\r\n", b"PING\r\n", b"-ERR 'Stale Connection'\r\n",
       b"MSG pb.1.evt 1 5\r\nhello\r\n", b"MSG pb.1.evt 1 _INBOX.a 5\r\nhello\r\n",
       hmsg("pb.1.evt", 2, "", b"NATS/1.0\r\nA: b\r\n\r\n", b"hello").replace(b"  ", b" "),
       hmsg("pb.1.evt.x", 2, "$JS.ACK.S.c.1.1.1.1.0", HEADERS, "党建事件".encode()),
       hmsg("pb.1.evt.y", 3, "$JS.ACK.S.c.1.2.2.1.0", HEADERS, b'{"type":"MemberScored"}'),
       hmsg("_INBOX.r", 3, "", b"NATS/1.0 408 Request Timeout\r\n\r\n", b"").replace(b"  ", b" ")]


class Client:
    def __init__(self, direct_sid: int | None = None):
        self.handled: list[tuple] = []
        self.sunk: list[tuple] = []
        self.direct = {direct_sid: self.sink} if direct_sid else {}

    async def sink(self, subject: str, reply: str, data: bytes) -> None:
        self.sunk.append((subject.encode(), reply.encode(), data))

    async def _process_msg(self, sid, subject, reply, data, headers):
        self.handled.append(("msg", sid, subject, reply, data, headers))

    async def _process_pong(self):
        self.handled.append(("pong",))

    async def _process_ping(self):
        self.handled.append(("ping",))

    async def _process_info(self, info):
        self.handled.append(("info", info))

    async def _process_err(self, err):
        self.handled.append(("err", err))


async def feed(parser: Parser, stream: bytes, rnd: random.Random) -> None:
    i = 0
    while i < len(stream):
        k = rnd.randint(1, 64)
        await parser.parse(stream[i:i + k])
        i += k


def test_any_cut_of_the_stream_is_handled_as_by_nats_py():
    async def run() -> None:
        for trial in range(500):
            rnd = random.Random(trial)
            stream = b"".join(rnd.choice(OPS) for _ in range(40))
            plain, ours = Client(), Client()
            await Parser(plain).parse(stream)
            await feed(ReplayParser(ours), stream, rnd)
            assert ours.handled == plain.handled and not ours.sunk

    asyncio.run(run())


def test_data_messages_of_a_reader_go_to_its_sink_and_nothing_else_changes():
    async def run() -> None:
        for trial in range(500):
            rnd = random.Random(trial)
            stream = b"".join(rnd.choice(OPS) for _ in range(40))
            plain, ours = Client(), Client(direct_sid=2)
            await Parser(plain).parse(stream)
            await feed(ReplayParser(ours), stream, rnd)
            # sid 2's data messages with a reply (the replay's) are sunk, without their headers
            direct = [h for h in plain.handled if h[0] == "msg" and h[1] == 2 and h[3] and h[4]]
            assert ours.sunk == [(h[2], h[3], h[4]) for h in direct]
            assert ours.handled == [h for h in plain.handled if h not in direct]

    asyncio.run(run())
