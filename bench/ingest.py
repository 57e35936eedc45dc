"""Ingest: record N scores through the real command path (NATS request/reply to the ratings service).

    .venv/bin/python bench/ingest.py [--n 100000] [--no-fsync] [--concurrency 512] [--split K]

The services run as deployed, in processes of their own (`dangjian start --only ...`): one process
with every service, or with --split K the ratings commands in K processes beside one process that
runs the ratings projections.

Setup: a county with a township and 50 branches (real commands), 20,000 members (sealed
MemberRegistered events appended in atomic batches), the 2026 member scheme "532" (real command).
Measured: N record_score requests, `--concurrency` in flight, spread over the members.
Raw limit, same run, same server: pipelined acked JetStream publishes of the same payload size
into a stream with the county stream's settings.
"""
from __future__ import annotations

import asyncio
import itertools
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import nats
import orjson
from sqlalchemy import func, select

from common import (CpuMeter, County, ServicesProcess, append_all, arguments, bench_signers, command, emit,
                    member_envelopes, peak_rss_mb, request, rss_mb, say, setup_organizations)
from services.ratings.scheme import PRESETS
from services.ratings.projections.stars import StarsProjection
from shared.auth import Actor
from shared.catalog.ratings import MemberScored
from shared.db import make_engine
from shared.envelope import Metadata, seal
from shared.eventstore import EventStore, stream_name
from shared.messaging import health_of_every_instance
from shared.natsserver import EmbeddedNats
from shared.settings import Settings

COUNTY = "450503"
BRANCHES, MEMBERS, YEAR = 50, 20_000, 2026
CATEGORIES = [s.category for s in PRESETS["532"]()]
RAW_STREAM, RAW_WINDOW = "BENCH_RAW", 4000


def score_data(i: int, member: str) -> dict:
    return {"rated_kind": "member", "rated_id": member, "year": YEAR, "category": CATEGORIES[i % len(CATEGORIES)],
            "points": 1 + i % 5, "reason": "带头参与防汛抢险，组织群众转移", "evidence_ref": f"会议记录-2026-{i % 97}",
            "occurred_on": "2026-06-01", "idempotency_key": f"bench-{i}"}


def sample_envelope(county: str, member: str) -> bytes:
    """A MemberScored envelope as the ratings service would store it (for the raw payload size)."""
    d = score_data(0, member)
    ev = MemberScored(score_id="0" * 36, member_id=member, branch_id="0" * 36, year=YEAR, category=d["category"],
                      points=d["points"], reason=d["reason"], evidence_ref=d["evidence_ref"],
                      occurred_on=date(2026, 6, 1), idempotency_key=d["idempotency_key"])
    return orjson.dumps(seal(county, f"{YEAR}-member-{member}", ev, Metadata(actor="county_admin:bench"), None))


async def raw_publish(nc, county: str, members: list[str], n: int, payload: bytes) -> tuple[float, int]:
    """Pipelined acked publishes (publish_async, ≤4,000 pending) into a stream configured like the county's."""
    js = nc.jetstream(publish_async_max_pending=RAW_WINDOW)
    cfg = (await js.stream_info(stream_name(county))).config
    cfg.name, cfg.subjects, cfg.description = RAW_STREAM, ["bench.raw.>"], "bench raw publishes"
    await js.add_stream(cfg)
    futures = []
    started = time.perf_counter()
    for i in range(n):
        futures.append(await js.publish_async(f"bench.raw.{members[i % len(members)]}", payload,
                                              headers={"Nats-Msg-Id": f"raw-{i}"}))
    # publish_async futures of rejected publishes never resolve in nats-py 2.16: bound the wait
    results = await asyncio.wait_for(asyncio.gather(*futures, return_exceptions=True), timeout=120)
    seconds = time.perf_counter() - started
    failures = sum(isinstance(r, BaseException) for r in results)
    await js.delete_stream(RAW_STREAM)
    return seconds, failures


async def record_scores(nc, c: County, n: int, concurrency: int, actor: Actor) -> tuple[float, int, dict | None, int]:
    counter = itertools.count()
    done = failures = last_seq = 0
    first_failure = None

    async def worker() -> None:
        nonlocal done, failures, first_failure, last_seq
        while (i := next(counter)) < n:
            try:
                reply = await request(nc, c.code, "cmd", "ratings", "record_score",
                                      score_data(i, c.members[i % len(c.members)]), actor=actor)
            except Exception as exc:  # a timeout is a failure too
                reply = {"ok": False, "error": repr(exc)}
            if reply.get("ok"):
                last_seq = max(last_seq, reply["seq"])
            else:
                failures += 1
                first_failure = first_failure or {"i": i, "reply": reply}
            done += 1

    async def progress() -> None:
        prev, t = 0, time.perf_counter()
        while True:
            await asyncio.sleep(5)
            now = time.perf_counter()
            say(f"  {done:>7} / {n} scores, {(done - prev) / (now - t):,.0f}/s now, {failures} failures")
            prev, t = done, now

    reporter = asyncio.create_task(progress())
    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    seconds = time.perf_counter() - started
    reporter.cancel()
    return seconds, failures, first_failure, last_seq


async def main() -> None:
    args = arguments("ingest", 100_000, extra=[
        (("--concurrency",), dict(type=int, default=512, help="record_score requests in flight (default 512)")),
        (("--split",), dict(type=int, default=0, metavar="K",
                            help="K ratings processes answering commands (DANGJIAN_RUN_PROJECTIONS=false) beside one "
                                 "running its projections (DANGJIAN_SERVE_REQUESTS=false); default 0 = one process "
                                 "runs every service")),
    ])
    fsync = not args.no_fsync
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        server = EmbeddedNats(Path(tmp) / "nats", sync_always=fsync).start()
        services = nc = None
        extra: list[ServicesProcess] = []
        try:
            say(f"nats-server on {server.url}, fsync every write: {fsync}")
            data_dir = Path(tmp) / "data"
            nc = await nats.connect(server.url, name="bench-ingest")
            if args.split:
                services = ServicesProcess(server.url, data_dir, names=("organizations", "notifications"))
                extra.append(ServicesProcess(server.url, data_dir, names=("ratings",),
                                             env={"DANGJIAN_SERVE_REQUESTS": "false"}))
                extra += [ServicesProcess(server.url, data_dir, names=("ratings",),
                                          env={"DANGJIAN_RUN_PROJECTIONS": "false"}) for _ in range(args.split)]
            else:
                services = ServicesProcess(server.url, data_dir)
            for proc in (services, *extra):
                await proc.ready(nc)
            say(f"services running in process {services.pid}" +
                (f"; ratings projections in {extra[0].pid}, ratings commands in {[e.pid for e in extra[1:]]}"
                 if extra else ""))
            store = EventStore(nc)

            c = await setup_organizations(nc, COUNTY, BRANCHES)
            say(f"county {COUNTY}: township and {len(c.branches)} branches via commands")
            t = time.perf_counter()
            signer = bench_signers(data_dir / "credentials")["org"]  # the services' own writer key: signed as they sign
            seq = await append_all(store, COUNTY, member_envelopes(c, MEMBERS, signer=signer))
            say(f"{MEMBERS} members appended in {time.perf_counter() - t:.1f}s (atomic batches), last seq {seq}")
            r = await command(nc, COUNTY, "ratings", "define_scheme", {"year": YEAR, "name": "2026年党员星级管理",
                                                                      "preset": "532"})
            say(f"scheme 532 defined at seq {r['seq']}; waiting for the projections")
            say(f"projections caught up in {await (extra[0] if extra else services).caught_up(nc, COUNTY):.1f}s")

            payload = sample_envelope(COUNTY, c.members[0])
            say(f"raw: {args.n} pipelined acked publishes of {len(payload)} bytes (window {RAW_WINDOW})")
            raw_meter = CpuMeter(server.proc.pid).start()
            raw_s, raw_failures = await raw_publish(nc, COUNTY, c.members, args.n, payload)
            raw_cpu = raw_meter.stop()
            raw_rate = args.n / raw_s
            say(f"raw: {raw_rate:,.0f} events/s ({raw_s:.1f}s, {raw_failures} failures), cpu {raw_cpu}")

            actor = Actor(sub="bench-admin", role="county_admin", county=COUNTY)
            say(f"recording {args.n} scores over {len(c.members)} members, {args.concurrency} in flight")
            meter = CpuMeter(server.proc.pid, services=services.pid,
                             **{("ratings_projections" if i == 0 else f"ratings_commands{i}"): e.pid
                                for i, e in enumerate(extra)}).start()
            seconds, failures, first_failure, last_seq = await record_scores(nc, c, args.n, args.concurrency, actor)
            cpu = meter.stop()
            rate = args.n / seconds
            say(f"scores: {rate:,.0f}/s ({seconds:.1f}s), {failures} failures")
            say(f"cpu during the run: {cpu}")
            if first_failure:
                say(f"first failure: {first_failure}")
            appends = [h["group_commit"][COUNTY] for h in await health_of_every_instance(nc, "ratings")
                       if COUNTY in h["group_commit"]]
            say(f"group commit in the ratings instances: {appends}")
            lag = await (extra[0] if extra else services).caught_up(nc, COUNTY)
            say(f"projections caught up {lag:.2f}s after the last reply")
            rows = count_scores(data_dir)
            say(f"read-model holds {rows} score rows")
            figures = {"bench": "ingest", "n": args.n, "events_per_s": round(rate), "scores_per_s": round(rate),
                       "raw_events_per_s": round(raw_rate), "ratio": round(rate / raw_rate, 3), "failures": failures,
                       "raw_failures": raw_failures, "fsync": fsync, "seconds": round(seconds, 2),
                       "raw_seconds": round(raw_s, 2), "concurrency": args.concurrency, "split": args.split,
                       "members": len(c.members),
                       "payload_bytes": len(payload), "projection_lag_s": round(lag, 2), "score_rows": rows,
                       "nats_server_rss_mb": rss_mb(server.proc.pid), "services_rss_mb": rss_mb(services.pid),
                       "cpu": cpu, "raw_cpu": raw_cpu, "group_commit": appends}
        finally:
            if nc:
                await nc.close()
            for e in extra:
                e.stop()
            if services:
                services.stop()
            server.stop()
    figures["peak_rss_mb"] = peak_rss_mb()
    if failures or rows != args.n:
        say(f"FAILED: {failures} failed commands, {rows} score rows for {args.n} scores")
    emit(figures)
    if failures or rows != args.n:
        sys.exit(1)


def count_scores(data_dir: Path) -> int:
    settings = Settings(data_dir=data_dir)
    engine = make_engine(settings.database_url_for("ratings"))
    try:
        scores = StarsProjection().scores
        with engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(scores).where(scores.c.county == COUNTY)).scalar_one()
    finally:
        engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
