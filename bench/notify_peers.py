"""The far ends of bench/notify.py, each in a process of its own so that they share no GIL with the
services or the benchmark's command loop:

    notify_peers.py receivers --port P --secret whsec_...   100 Standard Webhooks endpoints (/hook/<i>)
    notify_peers.py sse --url URL --tokens FILE --clients N  N SSE clients of the live feed
    notify_peers.py scores --nats URL --subject S --token T --members FILE --rate R   background record_score

Each prints "ready" once it serves (receivers) or once every client's stream is open (sse), records the
wall-clock time each notification arrives (keyed by organization_id), and on a line "dump" on stdin
prints its records as one JSON line: {"<organization_id>": [t, ...], ...}; on "count" only how many.
"""
from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections import defaultdict

import orjson

MEASURED = "organization_flagged_weak"  # the notification of the benchmark's status changes
arrivals: dict[str, list[float]] = defaultdict(list)
counters = {"refused": 0, "events": 0, "dropped_streams": 0}


async def wait_for_dump() -> None:
    reader = asyncio.StreamReader()
    await asyncio.get_running_loop().connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while (line := await reader.readline()):
        if line.strip() == b"dump":
            sys.stdout.write(orjson.dumps({"arrivals": arrivals, **counters}).decode() + "\n")
            sys.stdout.flush()
        elif line.strip() == b"count":  # cheap, while waiting: the number of measured receipts
            sys.stdout.write(orjson.dumps({"receipts": sum(map(len, arrivals.values()))}).decode() + "\n")
            sys.stdout.flush()
    raise SystemExit(0)


async def receivers(port: int, secret: str) -> None:
    # aiohttp's server: a receipt costs a fraction of uvicorn + Starlette's, so at a thousand deliveries
    # a second the receiver's own CPU does not become the measured delay
    from aiohttp import web
    from standardwebhooks import Webhook, WebhookVerificationError

    hook = Webhook(secret)
    seen: set[tuple[str, str]] = set()

    async def receive(request):
        body = await request.read()
        at = time.time()  # on receipt, before verification
        try:
            payload = hook.verify(body, dict(request.headers))
        except WebhookVerificationError:
            counters["refused"] += 1
            return web.Response(status=400)
        key = (request.match_info["i"], request.headers["webhook-id"])
        if key not in seen:  # de-duplication by webhook-id, as a receiver should
            seen.add(key)
            if payload["data"]["kind"] == MEASURED:
                arrivals[payload["data"]["organization_id"]].append(at)
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/hook/{i}", receive)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port, backlog=4096).start()
    print("ready", flush=True)
    await wait_for_dump()


async def sse(url: str, tokens: list[str], clients: int) -> None:
    import aiohttp

    opened = 0
    all_open = asyncio.Event()

    # one session (one connection pool) holding every stream; aiohttp's line reader costs a fraction of
    # httpx's aiter_lines, so the clients' CPU is not what is measured
    http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None, sock_connect=30),
                                 connector=aiohttp.TCPConnector(limit=0, force_close=True))

    async def client(token: str) -> None:
        nonlocal opened
        async with http.get(url, headers={"Authorization": f"Bearer {token}"}) as resp:
            if resp.status != 200:
                raise RuntimeError(f"stream refused: {resp.status} {await resp.read()}")
            opened += 1
            if opened == clients:
                all_open.set()
            async for line in resp.content:
                if line.startswith(b"data:"):
                    at, item = time.time(), orjson.loads(line[5:])
                    counters["events"] += 1
                    if item["kind"] == MEASURED:
                        arrivals[item["organization_id"]].append(at)
        counters["dropped_streams"] += 1

    tasks = [asyncio.create_task(client(tokens[i % len(tokens)])) for i in range(clients)]
    await asyncio.wait([asyncio.create_task(all_open.wait()), *tasks], return_when=asyncio.FIRST_COMPLETED)
    for t in tasks:
        if t.done() and t.exception():
            raise t.exception()
    print("ready", flush=True)
    await wait_for_dump()


async def scores(nats_url: str, subject: str, token: str, members: list[str], per_s: float, in_flight: int) -> None:
    """record_score commands at `per_s` a second, at most `in_flight` unanswered (an overloaded machine
    keeps the background load what it was asked to be rather than piling up requests). In a process of
    its own so that the benchmark's loop, which takes the acknowledgement times, is not kept busy by them.
    "stop" on stdin: stop, wait for the answers, print the counts as one JSON line."""
    import nats

    nc = await nats.connect(nats_url, name="bench-notify-scores")
    counts: dict[str, int] = defaultdict(int)
    stop, slots, pending = asyncio.Event(), asyncio.Semaphore(in_flight), set()

    async def one(k: int) -> None:
        try:
            msg = await nc.request(subject, orjson.dumps({"token": token, "min_seq": None, "data": {
                "rated_kind": "member", "rated_id": members[k % len(members)], "year": 2026, "category": "member_corps",
                "points": 1, "reason": "带头参与防汛抢险", "occurred_on": "2026-06-01", "idempotency_key": f"s{k}"}}),
                timeout=30)
            reply = orjson.loads(msg.data)
            counts["ok" if reply.get("ok") else "refused:" + (reply.get("error") or {}).get("code", "?")] += 1
        except Exception:  # a timeout on an overloaded machine: counted, not fatal
            counts["failed"] += 1
        finally:
            slots.release()

    async def until_stop() -> None:
        reader = asyncio.StreamReader()
        await asyncio.get_running_loop().connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        while (line := await reader.readline()) and line.strip() != b"stop":
            pass
        stop.set()

    watcher = asyncio.create_task(until_stop())
    print("ready", flush=True)
    i, started = 0, time.perf_counter()
    while not stop.is_set() and per_s:
        if slots.locked():  # saturated: skip this tick rather than queue
            counts["skipped"] += 1
        else:
            await slots.acquire()
            task = asyncio.create_task(one(i))
            pending.add(task)
            task.add_done_callback(pending.discard)
            i += 1
        await asyncio.sleep(max(0.0, started + (i + counts["skipped"]) / per_s - time.perf_counter()))
    await watcher
    await asyncio.gather(*pending, return_exceptions=True)
    print(orjson.dumps({"sent": i, "outcomes": counts}).decode(), flush=True)
    await nc.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("role", choices=["receivers", "sse", "scores"])
    ap.add_argument("--port", type=int)
    ap.add_argument("--secret")
    ap.add_argument("--url")
    ap.add_argument("--tokens")
    ap.add_argument("--clients", type=int, default=500)
    ap.add_argument("--nats")
    ap.add_argument("--subject")
    ap.add_argument("--token")
    ap.add_argument("--members")
    ap.add_argument("--rate", type=float, default=50)
    ap.add_argument("--in-flight", type=int, default=200)
    args = ap.parse_args()
    if args.role == "scores":
        asyncio.run(scores(args.nats, args.subject, args.token, open(args.members).read().split(), args.rate,
                           args.in_flight))
    elif args.role == "receivers":
        asyncio.run(receivers(args.port, args.secret))
    else:
        tokens = open(args.tokens).read().split()
        asyncio.run(sse(args.url, tokens, args.clients))


if __name__ == "__main__":
    main()
