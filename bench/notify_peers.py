"""The far ends of bench/notify.py, each in a process of its own so that they share no GIL with the
services or the benchmark's command loop:

    notify_peers.py receivers --port P --secret whsec_...   100 Standard Webhooks endpoints (/hook/<i>)
    notify_peers.py sse --url URL --tokens FILE --clients N  N SSE clients of the live feed

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
    import uvicorn
    from standardwebhooks import Webhook, WebhookVerificationError
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route

    hook = Webhook(secret)
    seen: set[tuple[str, str]] = set()

    async def receive(request):
        body, at = await request.body(), time.time()
        try:
            payload = hook.verify(body, dict(request.headers))
        except WebhookVerificationError:
            counters["refused"] += 1
            return Response(status_code=400)
        key = (request.path_params["i"], request.headers["webhook-id"])
        if key not in seen:  # de-duplication by webhook-id, as a receiver should
            seen.add(key)
            if payload["data"]["kind"] == MEASURED:
                arrivals[payload["data"]["organization_id"]].append(at)
        return Response(status_code=204)

    app = Starlette(routes=[Route("/hook/{i}", receive, methods=["POST"])])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False,
                                           lifespan="off", backlog=4096))
    server.install_signal_handlers = lambda: None
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    print("ready", flush=True)
    await asyncio.gather(task, wait_for_dump())


async def sse(url: str, tokens: list[str], clients: int) -> None:
    import httpx

    opened = 0
    all_open = asyncio.Event()

    # one client (one connection pool, one TLS context built) holding every stream: a client object per
    # stream cost more CPU to set up than the streams themselves
    http = httpx.AsyncClient(timeout=None, limits=httpx.Limits(max_connections=clients + 10,
                                                                max_keepalive_connections=0))

    async def client(token: str) -> None:
        nonlocal opened
        async with http.stream("GET", url, headers={"Authorization": f"Bearer {token}"}) as resp:
            if resp.status_code != 200:
                raise RuntimeError(f"stream refused: {resp.status_code} {await resp.aread()}")
            opened += 1
            if opened == clients:
                all_open.set()
            async for line in resp.aiter_lines():
                if line.startswith("data:"):
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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("role", choices=["receivers", "sse"])
    ap.add_argument("--port", type=int)
    ap.add_argument("--secret")
    ap.add_argument("--url")
    ap.add_argument("--tokens")
    ap.add_argument("--clients", type=int, default=500)
    args = ap.parse_args()
    if args.role == "receivers":
        asyncio.run(receivers(args.port, args.secret))
    else:
        tokens = open(args.tokens).read().split()
        asyncio.run(sse(args.url, tokens, args.clients))


if __name__ == "__main__":
    main()
