"""Command floor: what a FastStream request/reply handler that does nothing costs on this machine — the
ceiling of any command path built as the design prescribes (FastStream handlers on NATS), before any
domain work, event store or projection.

    .venv/bin/python bench/command_floor.py [--n 100000] [--concurrency 512]

Measured: N requests of a score command's size (the same client loop as bench/ingest.py, `--concurrency`
in flight) to an echo handler — a FastStream subscriber with the ratings service's settings (queue group,
DANGJIAN_HANDLER_CONCURRENCY workers, JSON body decoded, dict reply) in a process of its own.
Also measured: the services' pipelined dispatch (shared/pipeline.py: one ordered FastStream worker whose
handler starts each answer as a task that replies itself — `events_per_s`, `ratio`), and the same
FastStream handler with one worker (DANGJIAN_HANDLER_CONCURRENCY=1: faster per
request, but a command handler that awaits its append would then store one event per fsync).
Each handler process runs on the event loop `dangjian start` uses (DANGJIAN_EVENT_LOOP, uvloop by default);
the pipelined dispatch is measured on the standard library's loop as well.
Raw limit, same run, same server: the same requests to a plain nats-py subscriber that answers each with
`msg.respond`. CPU seconds of the client, the handler process and nats-server are printed for each.
"""
from __future__ import annotations

import asyncio
import itertools
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nats
import orjson

from common import CpuMeter, arguments, emit, peak_rss_mb, say
from shared.natsserver import EmbeddedNats
from shared.settings import Settings

SUBJECT = "pb.450503.cmd.floor.echo"
BODY = orjson.dumps({"actor": {"sub": "county_admin:bench", "role": "county_admin", "county": "450503"},
                     "data": {"rated_kind": "member", "rated_id": "0" * 36, "year": 2026, "category": "C01",
                              "points": 3, "reason": "带头参与防汛抢险，组织群众转移", "evidence_ref": "会议记录-2026-1",
                              "occurred_on": "2026-06-01", "idempotency_key": "bench-0"}, "min_seq": None})


async def serve_faststream(url: str) -> None:
    from faststream.nats import NatsBroker

    broker = NatsBroker(url, logger=None)

    @broker.subscriber(SUBJECT, queue="floor", max_workers=Settings().handler_concurrency)
    async def echo(body: dict) -> dict:
        return {"ok": True, "seq": 1, "data": {"score_id": body["data"]["idempotency_key"]}}

    await broker.start()
    print("ready", flush=True)
    await asyncio.Event().wait()


async def serve_nats(url: str) -> None:
    nc = await nats.connect(url)
    reply = orjson.dumps({"ok": True, "seq": 1, "data": {"score_id": "bench-0"}})

    async def echo(msg) -> None:
        await msg.respond(reply)

    await nc.subscribe(SUBJECT, queue="floor", cb=echo, pending_msgs_limit=1_000_000)
    await nc.flush()
    print("ready", flush=True)
    await asyncio.Event().wait()


async def serve_pipelined(url: str) -> None:
    """The services' dispatch (shared/pipeline.py): one ordered FastStream worker, each answer a task."""
    from faststream.nats import NatsBroker

    from shared.messaging import encode
    from shared.pipeline import Pipeline

    broker = NatsBroker(url, logger=None, apply_types=False)

    async def answer(county: str, body: dict, route) -> dict:
        await asyncio.sleep(0)  # a command's answer awaits its append
        return {"ok": True, "seq": 1, "data": {"score_id": body["data"]["idempotency_key"]}}

    pipeline = Pipeline(answer, encode, Settings().handler_concurrency)

    @broker.subscriber(SUBJECT, queue="floor", no_reply=True)
    async def echo(body: dict) -> None:
        msg = broker.context.get_local("message").raw_message
        await pipeline.submit(msg.subject.split(".", 2)[1], body, None, msg)

    await broker.start()
    print("ready", flush=True)
    await asyncio.Event().wait()


def start_server_process(kind: str, url: str, env: dict[str, str]) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, __file__, "--serve", kind, url], stdout=subprocess.PIPE,
                            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), **env})
    if proc.stdout.readline().strip() != b"ready":
        proc.kill()
        raise RuntimeError(f"{kind} echo process did not start")
    return proc


async def drive(nc, n: int, concurrency: int) -> tuple[float, int]:
    counter, failures = itertools.count(), 0

    async def worker() -> None:
        nonlocal failures
        while next(counter) < n:
            try:
                reply = orjson.loads((await nc.request(SUBJECT, BODY, timeout=60)).data)
                failures += not reply.get("ok")
            except Exception:  # a timeout is a failure too
                failures += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - started, failures


async def measure(server: EmbeddedNats, nc, kind: str, n: int, concurrency: int, env: dict | None = None) -> dict:
    proc = start_server_process(kind, server.url, env or {})
    try:
        await drive(nc, min(n, 5_000), concurrency)  # warm-up: connections, caches
        meter = CpuMeter(server.proc.pid, handler=proc.pid).start()
        seconds, failures = await drive(nc, n, concurrency)
        cpu = meter.stop()
    finally:
        proc.kill()
        proc.wait()
    rate = n / seconds
    say(f"{kind} {env or ''}: {rate:,.0f} requests/s ({seconds:.1f}s, {failures} failures), cpu {cpu}")
    return {"per_s": round(rate), "seconds": round(seconds, 2), "failures": failures, "cpu": cpu}


async def main() -> None:
    args = arguments("command_floor", 100_000, [(("--concurrency",), {"type": int, "default": 512,
                                                                       "help": "requests in flight (default 512)"})])
    with tempfile.TemporaryDirectory(prefix="bench-floor-") as tmp:
        server = EmbeddedNats(Path(tmp) / "nats", sync_always=not args.no_fsync).start()
        nc = None
        try:
            say(f"nats-server on {server.url}; {args.n} requests of {len(BODY)} bytes, {args.concurrency} in flight")
            nc = await nats.connect(server.url, name="bench-floor")
            raw = await measure(server, nc, "nats", args.n, args.concurrency)
            fast = await measure(server, nc, "faststream", args.n, args.concurrency)
            one = await measure(server, nc, "faststream", args.n, args.concurrency, {"DANGJIAN_HANDLER_CONCURRENCY": "1"})
            piped = await measure(server, nc, "pipelined", args.n, args.concurrency)
            std = await measure(server, nc, "pipelined", args.n, args.concurrency, {"DANGJIAN_EVENT_LOOP": "asyncio"})
            emit({"bench": "command_floor", "n": args.n, "events_per_s": piped["per_s"],
                  "pipelined": piped, "pipelined_asyncio_loop": std, "faststream_concurrent_per_s": fast["per_s"],
                  "faststream_concurrent_ratio": round(fast["per_s"] / raw["per_s"], 3),
                  "raw_events_per_s": raw["per_s"], "ratio": round(piped["per_s"] / raw["per_s"], 3),
                  "concurrency": args.concurrency, "handler_concurrency": Settings().handler_concurrency,
                  "faststream": fast, "faststream_one_worker": one, "raw": raw, "peak_rss_mb": peak_rss_mb(),
                  "ok": fast["failures"] == one["failures"] == raw["failures"] == piped["failures"] == std["failures"] == 0})
        finally:
            if nc is not None:
                await nc.close()
            server.stop()


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--serve":
        from services.launcher import run_on_loop  # the event loop `dangjian start` would use

        run_on_loop(Settings(), {"faststream": serve_faststream, "nats": serve_nats,
                                 "pipelined": serve_pipelined}[sys.argv[2]](sys.argv[3]))
    else:
        asyncio.run(main())
