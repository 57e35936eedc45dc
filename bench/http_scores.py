"""Scores through HTTP: the path a user takes. The whole system runs as `dangjian start` runs it (services
and gateway in one process of its own) on the benchmark's nats-server (fsync on every write).

    .venv/bin/python bench/http_scores.py [--n 20000] [--bulk 200000] [--clients 64]

Setup: a county with a township, 50 branches (commands) and 20,000 members (sealed events), the 2026
member scheme "532" (command). Measured, each followed by waiting until the read-models caught up:
  1. single scores: `POST …/members/{id}/scores` by `--clients` concurrent HTTP clients, N in all;
  2. bulk: `POST …/scores/batch` of 10,000 entries each, two batches in flight, `--bulk` scores in all,
     timed until the star read-model holds them (end to end).
Raw limit, same run, same server: pipelined acked JetStream publishes of a score event's size.
"""
from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import nats

from common import (BENCH_SIGNING_KEY, CpuMeter, append_all, arguments, bench_signers, bench_token, command, emit,
                    member_envelopes, peak_rss_mb, say, setup_organizations)
from ingest import COUNTY, MEMBERS, YEAR, count_scores, raw_publish, sample_envelope, score_data
from shared.auth import Actor
from shared.credentials import Keyring
from shared.eventstore import EventStore
from shared.messaging import health_subject
from shared.natsserver import EmbeddedNats, free_port

BRANCHES, BATCH = 50, 10_000


class System:
    """`dangjian start` (every service and the gateway, as the README starts them) in a process of its own."""

    def __init__(self, nats_url: str, data_dir: Path):
        Keyring(data_dir / "credentials").ensure(signing=False)
        self.port = free_port()
        self.proc = subprocess.Popen(
            [str(Path(sys.executable).parent / "dangjian"), "start"],
            env={**os.environ, "DANGJIAN_NATS_URL": nats_url, "DANGJIAN_DATA_DIR": str(data_dir),
                 "DANGJIAN_HTTP_PORT": str(self.port), "DANGJIAN_JWT_SIGNING_KEY": BENCH_SIGNING_KEY,
                 "DANGJIAN_LOG_LEVEL": "WARNING"}, stdout=subprocess.DEVNULL)
        self.url = f"http://127.0.0.1:{self.port}"

    async def ready(self, timeout: float = 60) -> None:
        started = time.perf_counter()
        async with httpx.AsyncClient() as client:
            while True:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"dangjian start exited with {self.proc.returncode}")
                try:
                    if (await client.get(f"{self.url}/healthz")).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                if time.perf_counter() - started > timeout:
                    raise TimeoutError("the system did not become healthy")
                await asyncio.sleep(0.2)

    async def caught_up(self, nc, timeout: float = 600) -> float:
        import orjson
        started = time.perf_counter()
        while True:
            health = orjson.loads((await nc.request(health_subject("ratings"), b"", timeout=10)).data)
            stars = [p for p in health["projections"] if p["county"] == COUNTY]
            if stars and all(p.get("lag") == 0 for p in stars):
                return time.perf_counter() - started
            if time.perf_counter() - started > timeout:
                raise TimeoutError(f"not caught up: {stars}")
            await asyncio.sleep(0.05)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


RESENT = {"n": 0}  # requests sent again after the connection dropped (counted in the output)


async def post_again_if_dropped(client: httpx.AsyncClient, url: str, body: dict) -> httpx.Response:
    """A client whose connection drops before the answer sends the same request again: every score carries
    its idempotency key, so a request that was recorded answers the same score and records nothing twice."""
    for attempt in range(3):
        try:
            return await client.post(url, json=body)
        except httpx.TransportError:
            if attempt == 2:
                raise
            RESENT["n"] += 1
            await asyncio.sleep(0.5)


async def single_scores(url: str, members: list[str], n: int, clients: int, headers: dict) -> tuple[float, int]:
    counter, failures = itertools.count(), 0

    async def client_loop(client: httpx.AsyncClient) -> None:
        nonlocal failures
        while (i := next(counter)) < n:
            data = score_data(i, members[i % len(members)])
            body = {k: v for k, v in data.items() if k not in ("rated_kind", "rated_id")}
            r = await post_again_if_dropped(client, f"{url}/api/v1/counties/{COUNTY}/members/{data['rated_id']}/scores",
                                            body)
            failures += r.status_code != 201

    # one client (one keep-alive connection) per concurrent caller, as browsers and integrations are: one
    # httpx client pooling 64 connections spent ~6 ms of the benchmark's CPU per request on a 2-core machine
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with contextlib.AsyncExitStack() as stack:
        pool = [await stack.enter_async_context(httpx.AsyncClient(headers=headers, limits=limits, timeout=60))
                for _ in range(clients)]
        started = time.perf_counter()
        await asyncio.gather(*(client_loop(client) for client in pool))
        return time.perf_counter() - started, failures


async def bulk_scores(url: str, members: list[str], first: int, n: int, headers: dict) -> tuple[float, int]:
    gate, refused = asyncio.Semaphore(2), 0

    async def one(client: httpx.AsyncClient, start: int) -> None:
        nonlocal refused
        entries = [score_data(i, members[i % len(members)]) for i in range(start, min(start + BATCH, first + n))]
        async with gate:
            r = await post_again_if_dropped(client, f"{url}/api/v1/counties/{COUNTY}/scores/batch", {"scores": entries})
        refused += r.json()["refused"] if r.status_code == 200 else len(entries)
        if r.status_code != 200 or r.json()["refused"]:
            why = r.text if r.status_code != 200 else next(x for x in r.json()["results"] if not x["ok"])
            say(f"  refused in a batch ({r.status_code}): {str(why)[:300]}")

    async with httpx.AsyncClient(headers=headers, timeout=120) as client:
        started = time.perf_counter()
        await asyncio.gather(*(one(client, s) for s in range(first, first + n, BATCH)))
        return time.perf_counter() - started, refused


async def main() -> None:
    args = arguments("http_scores", 20_000, extra=[
        (("--bulk",), dict(type=int, default=200_000, help="scores sent in batches of 10,000 (default 200,000)")),
        (("--clients",), dict(type=int, default=64, help="concurrent HTTP clients for single scores (default 64)")),
    ])
    fsync = not args.no_fsync
    with tempfile.TemporaryDirectory(prefix="bench-http-") as tmp:
        server = EmbeddedNats(Path(tmp) / "nats", sync_always=fsync).start()
        system = nc = None
        try:
            say(f"nats-server on {server.url}, fsync every write: {fsync}")
            data_dir = Path(tmp) / "data"
            system = System(server.url, data_dir)
            nc = await nats.connect(server.url, name="bench-http")
            await system.ready()
            say(f"dangjian start (services + gateway) in process {system.proc.pid}, {system.url}")
            c = await setup_organizations(nc, COUNTY, BRANCHES)
            signer = bench_signers(data_dir / "credentials")["org"]  # the services' own writer key: signed as they sign
            await append_all(EventStore(nc), COUNTY, member_envelopes(c, MEMBERS, signer=signer))
            await command(nc, COUNTY, "ratings", "define_scheme", {"year": YEAR, "name": "2026年党员星级管理",
                                                                  "preset": "532"})
            say(f"county set up ({MEMBERS} members); caught up in {await system.caught_up(nc):.1f}s")

            payload = sample_envelope(COUNTY, c.members[0])
            raw_s, raw_failures = await raw_publish(nc, COUNTY, c.members, max(args.n, 20_000), payload)
            raw_rate = max(args.n, 20_000) / raw_s
            say(f"raw: {raw_rate:,.0f} acked publishes/s ({raw_failures} failures)")

            headers = {"Authorization": f"Bearer {bench_token(Actor(sub='bench-http', role='county_admin', county=COUNTY))}"}
            meter = CpuMeter(server.proc.pid, system=system.proc.pid).start()
            single_s, single_failures = await single_scores(system.url, c.members, args.n, args.clients, headers)
            single_cpu = meter.stop()
            lag = await system.caught_up(nc)
            http_rate = args.n / single_s
            say(f"single scores over HTTP: {http_rate:,.0f}/s ({single_s:.1f}s, {single_failures} failures), "
                f"read-model {lag:.1f}s behind; cpu {single_cpu}")

            meter = CpuMeter(server.proc.pid, system=system.proc.pid).start()
            sent_s, refused = await bulk_scores(system.url, c.members, args.n, args.bulk, headers)
            lag = await system.caught_up(nc)
            bulk_cpu = meter.stop()
            bulk_s = sent_s + lag
            bulk_rate = args.bulk / bulk_s
            rows = count_scores(data_dir)
            say(f"bulk: {bulk_rate:,.0f} scores/s end to end ({sent_s:.1f}s answered + {lag:.1f}s until the "
                f"read-model caught up), {refused} refused; cpu {bulk_cpu}")
            say(f"read-model holds {rows} score rows (expected {args.n + args.bulk})")
            ok = not single_failures and not refused and rows == args.n + args.bulk
            figures = {"bench": "http_scores", "http_commands_per_s": round(http_rate), "bulk_scores_per_s": round(bulk_rate),
                       "raw_events_per_s": round(raw_rate), "http_raw_ratio": round(http_rate / raw_rate, 3),
                       "bulk_raw_ratio": round(bulk_rate / raw_rate, 3), "n": args.n, "bulk": args.bulk,
                       "clients": args.clients, "single_failures": single_failures, "bulk_refused": refused,
                       "resent_after_dropped_connection": RESENT["n"],
                       "bulk_answered_s": round(sent_s, 2), "bulk_catch_up_s": round(lag, 2), "score_rows": rows,
                       "fsync": fsync, "cpu_single": single_cpu, "cpu_bulk": bulk_cpu, "ok": ok}
        finally:
            if nc:
                await nc.close()
            if system:
                system.stop()
            server.stop()
    figures["peak_rss_mb"] = peak_rss_mb()
    emit(figures)
    if not figures["ok"]:
        sys.exit(1)


if __name__ == "__main__":
    asyncio.run(main())
