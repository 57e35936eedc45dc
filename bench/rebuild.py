"""Rebuild: the star read-model (ratings.stars) from N events of one county, into a fresh SQLite file.

    .venv/bin/python bench/rebuild.py [--n 500000] [--no-fsync]

Setup (written directly, sealed envelopes in atomic batches): 50 OrganizationEstablished, up to
20,000 MemberRegistered, the 2026 member scheme "532", then MemberScored over the members with
1..5 points and ~2% ScoreRevoked of earlier scores.
Measured: shared.projection.rebuild_county(nc, engine, StarsProjection, county), swap included.
Raw limit, same run, same stream: an ordered push consumer decoding every event with
shared.envelope.decode (orjson + Pydantic).
Checked afterwards: score rows, revoked rows, points total and stars rows match what was written.
Memory: `peak_rss_mb` is the whole process's peak (the write phase and the raw read included);
`rebuild_peak_rss_mb` the process's peak during the rebuild alone (Linux VmHWM, reset before it).
"""
from __future__ import annotations

import asyncio
import random
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import nats
from nats.js.api import DeliverPolicy
from sqlalchemy import func, select

from common import (BENCH_META, CpuMeter, County, append_all, arguments, bench_signers, emit, member_envelopes,
                    organization_envelopes, peak_rss_mb, phase_peak_rss_mb, reset_peak_rss, rss_mb, say)
from services.ratings.domain import points_aggregate_id, scheme_aggregate_id
from services.ratings.scheme import PRESETS
from services.ratings.projections.stars import StarsProjection
from shared.authenticity import Authenticator
from shared.catalog.ratings import MemberScored, ScoreRevoked, StarSchemeDefined
from shared.db import make_engine
from shared.envelope import decode, seal, subject_for
from shared.eventstore import EventStore, county_subjects, stream_name
from shared.ids import new_id
from shared.natsserver import EmbeddedNats
from shared.rebuild import rebuild_county
from shared.signing import EventKeys

COUNTY = "450503"
BRANCHES, MAX_MEMBERS, YEAR, REVOKE_SHARE = 50, 20_000, 2026, 0.02
SLOTS = PRESETS["532"]()
CATEGORIES = [s.category for s in SLOTS]


@dataclass
class Expected:
    """What the read-model must hold after the rebuild."""
    scores: int = 0
    revoked: int = 0
    points: int = 0          # sum over non-revoked scores
    members_scored: int = 0


def rating_envelopes(c: County, n_scores_and_revokes: int, expected: Expected, seed: int = 11, signer=None):
    """The scheme, then scores over the members (hash-chained per points book), ~2% revocations."""
    scheme = StarSchemeDefined(year=YEAR, rated_kind="member", name="2026年党员星级管理", preset="532", slots=SLOTS,
                               class_one_min_stars=8)
    agg = scheme_aggregate_id(YEAR, "member", None)
    yield subject_for(c.code, "ratings", "scheme", agg), seal(c.code, agg, scheme, BENCH_META, None, signer=signer), 0
    rnd = random.Random(seed)
    branch_of = {m: c.branches[i % len(c.branches)] for i, m in enumerate(c.members)}
    last_hash: dict[str, str] = {}
    pool: list[tuple[str, str, int]] = []  # revocable scores (member, score_id, points), bounded
    scored: set[str] = set()
    for i in range(n_scores_and_revokes):
        if pool and rnd.random() < REVOKE_SHARE:
            member, score_id, points = pool.pop(rnd.randrange(len(pool)))
            ev = ScoreRevoked(score_id=score_id, year=YEAR, rated_kind="member", rated_id=member, reason="证明材料不实")
            expected.revoked += 1
            expected.points -= points
        else:
            member = c.members[i % len(c.members)]
            score_id, points = new_id(), 1 + rnd.randrange(5)
            ev = MemberScored(score_id=score_id, member_id=member, branch_id=branch_of[member], year=YEAR,
                              category=CATEGORIES[rnd.randrange(len(CATEGORIES))], points=points,
                              reason="带头参与防汛抢险，组织群众转移", evidence_ref=f"会议记录-2026-{i % 97}",
                              occurred_on=date(2026, 1 + i % 11, 1 + i % 28), idempotency_key=f"bench-{i}")
            expected.scores += 1
            expected.points += points
            scored.add(member)
            if len(pool) < 10_000:
                pool.append((member, score_id, points))
            else:
                pool[rnd.randrange(len(pool))] = (member, score_id, points)
        agg = points_aggregate_id(YEAR, "member", member)
        env = seal(c.code, agg, ev, BENCH_META, last_hash.get(member), signer=signer)
        last_hash[member] = env["hash"]
        yield subject_for(c.code, "ratings", "points", agg), env, None
    expected.members_scored = len(scored)


async def raw_read(nc, county: str, n: int) -> float:
    """Ordered push consumer over the whole stream, decoding every event as the runner does."""
    js = nc.jetstream()
    got = 0
    finished = asyncio.Event()

    async def on_msg(msg) -> None:
        nonlocal got
        decode(msg.metadata.sequence.stream, msg.subject, msg.data)
        got += 1
        if got >= n:
            finished.set()

    started = time.perf_counter()
    sub = await js.subscribe(county_subjects(county), stream=stream_name(county), cb=on_msg, ordered_consumer=True,
                             deliver_policy=DeliverPolicy.ALL)
    try:
        await asyncio.wait_for(finished.wait(), timeout=max(120, n / 2000))
    finally:
        await sub.unsubscribe()
    return time.perf_counter() - started


async def rebuild_progress(nc, n: int) -> None:
    """Every 10 s: how far the rebuild got — delivered to its replay (ack-none consumer), then acknowledged
    (= committed) by the runner of the final catch-up."""
    js, durable = nc.jetstream(), StarsProjection(suffix="__rebuild").checkpoint_name.replace(".", "_")
    prev, t = 0, time.perf_counter()
    while True:
        await asyncio.sleep(10)
        try:
            done = (await js.consumer_info(stream_name(COUNTY), f"{durable}_replay")).delivered.stream_seq
        except Exception:  # not created yet or already deleted
            try:
                done = (await js.consumer_info(stream_name(COUNTY), durable)).ack_floor.stream_seq
            except Exception:
                continue
        now = time.perf_counter()
        say(f"  {done:>7} / {n} events replayed, {(done - prev) / (now - t):,.0f}/s now")
        prev, t = done, now


def check(engine, expected: Expected) -> dict:
    """What the rebuilt (live, swapped-in) tables hold, compared with what was written."""
    p = StarsProjection()
    s, pt, st = p.scores.c, p.points.c, p.stars.c
    with engine.connect() as conn:
        got = {
            "scores": conn.execute(select(func.count()).where(s.county == COUNTY)).scalar_one(),
            "revoked": conn.execute(select(func.count()).where(s.county == COUNTY, s.revoked.is_(True))).scalar_one(),
            "points": conn.execute(select(func.coalesce(func.sum(pt.points), 0)).where(pt.county == COUNTY)).scalar_one(),
            "members_scored": conn.execute(select(func.count()).where(st.county == COUNTY,
                                                                     st.rated_kind == "member")).scalar_one(),
        }
    want = {"scores": expected.scores, "revoked": expected.revoked, "points": expected.points,
            "members_scored": expected.members_scored}
    return {k: (got[k], want[k]) for k in want if got[k] != want[k]}


async def main() -> None:
    args = arguments("rebuild", 500_000)
    fsync = not args.no_fsync
    members = min(MAX_MEMBERS, args.n // 5)
    with tempfile.TemporaryDirectory(prefix="bench-rebuild-") as tmp:
        server = EmbeddedNats(Path(tmp) / "nats", sync_always=fsync).start()
        nc = engine = None
        try:
            say(f"nats-server on {server.url}, fsync every write: {fsync}")
            nc = await nats.connect(server.url, name="bench-rebuild")
            store = EventStore(nc)
            await store.add_county_stream(COUNTY)
            c = County(COUNTY)
            expected = Expected()
            rest = args.n - BRANCHES - members - 1

            signers = bench_signers(Path(tmp) / "credentials")  # signed, as the services write them

            def events():
                yield from organization_envelopes(c, BRANCHES, signers["org"])
                yield from member_envelopes(c, members, signer=signers["org"])
                yield from rating_envelopes(c, rest, expected, signer=signers["ratings"])

            written = 0

            def progress(k: int) -> None:
                nonlocal written
                written += k
                if written % 50_000 < k:
                    say(f"  {written:>7} / {args.n} events written")

            t = time.perf_counter()
            last_seq = await append_all(store, COUNTY, events(), on_batch=progress)
            say(f"{last_seq} events written in {time.perf_counter() - t:.1f}s: {BRANCHES} branches, {members} members, "
                f"{expected.scores} scores, {expected.revoked} revocations")
            if last_seq != args.n:
                raise RuntimeError(f"stream holds {last_seq} events, expected {args.n}")

            raw_s = await raw_read(nc, COUNTY, args.n)
            raw_rate = args.n / raw_s
            say(f"raw: ordered consumer + decode, {raw_rate:,.0f} events/s ({raw_s:.1f}s)")

            engine = make_engine(f"sqlite:///{Path(tmp) / 'ratings.sqlite'}")
            # empty live tables, as a service's database has them (rebuild_county's drop_tables
            # deletes from projection_checkpoint and fails on a file without that table)
            await asyncio.to_thread(StarsProjection().create_tables, engine)
            rss_before = rss_mb()
            say(f"rebuilding ratings.stars into a fresh SQLite file (process RSS now {rss_before} MB)")
            peak_reset = reset_peak_rss()  # the rebuild's own peak, not the write phase's or the raw read's
            meter = CpuMeter(server.proc.pid).start()
            reporter = asyncio.create_task(rebuild_progress(nc, args.n))
            t = time.perf_counter()
            try:
                result = await rebuild_county(nc, engine, StarsProjection, COUNTY, authenticator=Authenticator(
                    nc.jetstream(), EventKeys.load(Path(tmp) / "credentials")))  # hashes, links, head signatures
            finally:
                reporter.cancel()
            seconds = time.perf_counter() - t
            cpu = meter.stop()
            rebuild_peak = phase_peak_rss_mb() if peak_reset else None
            rate = args.n / seconds
            say(f"rebuild: {rate:,.0f} events/s ({seconds:.1f}s; catch-up {result['seconds']}s, "
                f"swap {seconds - result['seconds']:.1f}s), checkpoint {result['events']}")
            say(f"cpu during the rebuild: {cpu}")
            mismatches = check(engine, expected)
            say("read-model checked: " + ("as expected" if not mismatches else f"WRONG (got, want): {mismatches}"))
            figures = {"bench": "rebuild", "n": args.n, "events_per_s": round(rate), "raw_events_per_s": round(raw_rate),
                       "ratio": round(rate / raw_rate, 3), "seconds": round(seconds, 2),
                       "catch_up_seconds": result["seconds"], "raw_seconds": round(raw_s, 2),
                       "scores": expected.scores, "revocations": expected.revoked, "members": members,
                       "fsync": fsync, "rss_before_rebuild_mb": rss_before, "rebuild_peak_rss_mb": rebuild_peak,
                       "cpu": cpu, "ok": not mismatches}
        finally:
            if nc:
                await nc.close()
            if engine:
                engine.dispose()
            server.stop()
    figures["peak_rss_mb"] = peak_rss_mb()
    emit(figures)
    if mismatches or result["events"] != args.n:
        sys.exit(1)


if __name__ == "__main__":
    asyncio.run(main())
