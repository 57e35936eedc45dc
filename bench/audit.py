"""Audit replay and the signed log (issue 11):

    .venv/bin/python bench/audit.py [--n 1000000] [--coverage-scale 1.0] [--queries 1000] [--no-fsync]

One county log of N signed events (default 1,000,000: 20,000 members' points handbooks, one member with
200 scores spread through the whole log), and a second county with two years of 两新组织 history
(bench/coverage.py's generator at --coverage-scale). Measured in this process, with the code the
services and the CLI run (no request hop):
  * as-of member rating: EventStore.load of the member's handbook (authenticated), replay, scheme, rate —
    p50/p99 over --queries queries, after one warm-up; raw: Direct Get of the same subject, same run;
  * as-of star distribution of the year (the township filter reads the same handbooks);
  * as-of coverage of the county with two years of history (known now, as of the last day), authenticated
    as the service reads it: median of 3 and the first (head signatures not yet remembered);
  * verify (`dangjian audit verify`) and export (`dangjian audit export`) of the N-event log; raw: the
    same log read with Direct Get without decoding through nats-py (the ratio's peer), and the same read
    over the connection of their own that verify and export use (shared/direct_wire.py);
  * sign_us_per_event (hash + Ed25519 signature of a ~900-byte envelope) and verify_us_per_event.
"""
from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace

import nats

from common import BENCH_META, append_all, arguments, bench_signers, emit, peak_rss_mb, say
from services.ratings.asof_places import Places
from services.ratings.asof import Knowledge, PointsFold, rate, replay_book, scheme_as_known
from services.ratings.domain import points_aggregate_id, scheme_aggregate_id
from services.ratings.scheme import PRESETS
from shared.aggregate import Repository
from shared.auth import Actor
from shared.audit_export import export_county
from shared.authenticity import Authenticator
from shared.catalog.ratings import MemberScored, StarSchemeDefined
from shared.direct_wire import read_log
from shared.envelope import seal, subject_for
from shared.eventstore import EventStore
from shared.natsserver import EmbeddedNats
from shared import signing
from shared.signing import EXPORTER, EventKeys, Signer, ensure_writer_keys
from shared.verify import verify_county

COUNTY, YEAR, TARGET, MEMBERS = "450501", 2025, "zhang-xiuling", 20_000


def ratings_log(n: int, signer: Signer):
    slots = PRESETS["532"]() if callable(PRESETS["532"]) else PRESETS["532"]
    scheme = StarSchemeDefined(year=YEAR, rated_kind="member", name="2025年党员星级管理", preset="532", slots=slots,
                               class_one_min_stars=8)
    agg = scheme_aggregate_id(YEAR, "member", None)
    yield subject_for(COUNTY, "ratings", "scheme", agg), seal(COUNTY, agg, scheme, BENCH_META, None, signer=signer), 0
    last: dict[str, str] = {}
    every = max(1, n // 200)
    for i in range(n - 1):
        member = TARGET if i % every == 0 and i // every < 200 else f"m{i % MEMBERS}"
        ev = MemberScored(score_id=f"s{i}", member_id=member, branch_id=f"b{hash(member) % 300}", year=YEAR,
                          category=slots[i % len(slots)].category, points=1 + i % 5, reason="带头参与防汛抢险",
                          evidence_ref=f"会议记录-{i % 97}", occurred_on=date(YEAR, 1 + i % 12, 1 + i % 28),
                          idempotency_key=f"k{i}")
        agg = points_aggregate_id(YEAR, "member", member)
        env = seal(COUNTY, agg, ev, BENCH_META, last.get(member), signer=signer)
        last[member] = env["hash"]
        yield subject_for(COUNTY, "ratings", "points", agg), env, None


async def as_of_member(store: EventStore, k: Knowledge) -> int:
    subject = subject_for(COUNTY, "ratings", "points", points_aggregate_id(YEAR, "member", TARGET))
    book = replay_book(await store.load(COUNTY, subject), k)
    scheme_subject = subject_for(COUNTY, "ratings", "scheme", scheme_aggregate_id(YEAR, "member", None))
    found = scheme_as_known(await store.load(COUNTY, scheme_subject), k)
    rate(found[0] if found else None, book.points_by_category())
    return len(book.entries)


def percentiles(samples: list[float]) -> tuple[float, float]:
    s = sorted(samples)
    return round(s[len(s) // 2] * 1000, 3), round(s[min(len(s) - 1, int(len(s) * 0.99))] * 1000, 3)


def sign_verify_us(signer: Signer, keys: EventKeys, n: int = 5000) -> tuple[float, float]:
    ev = MemberScored(score_id="s", member_id=TARGET, year=YEAR, category="leadership_team", points=3,
                      reason="带头参与防汛抢险，组织群众转移", evidence_ref="会议记录-2025-7", occurred_on=date(YEAR, 7, 1),
                      idempotency_key="k")
    t = time.perf_counter()
    envs = [seal(COUNTY, "2025.member.x", ev, BENCH_META, None, signer=signer) for _ in range(n)]
    sign_s = time.perf_counter() - t
    t = time.perf_counter()
    unsigned = [seal(COUNTY, "2025.member.x", ev, BENCH_META, None) for _ in range(n)]
    sign_s -= time.perf_counter() - t  # the envelope itself is not the signature's cost
    keys._verified.clear()
    signing._SIGNED_HERE.clear()  # verify as a reader in another process would
    t = time.perf_counter()
    for env in envs:
        keys.check_signature(env)
    verify_s = time.perf_counter() - t
    del unsigned
    return round(sign_s / n * 1e6, 1), round(verify_s / n * 1e6, 1)


async def coverage_as_of(nc, scale: float, signer: Signer, keys: EventKeys) -> tuple[float, float, int]:
    """(median of 3, the first — every aggregate's head signature checked, later ones remembered —, events)"""
    from coverage import COUNTY as COVERAGE_COUNTY, history
    from services.organizations.enterprises.figures import report_as_of
    store = EventStore(nc)
    await store.add_county_stream(COVERAGE_COUNTY)
    log = history(scale, signer=signer)
    n = len(log.items)
    await append_all(store, COVERAGE_COUNTY, log.items)
    store.authenticator = Authenticator(nc.jetstream(), keys)  # as the service reads the log (authenticated)
    signing._SIGNED_HERE.clear()
    ctx = SimpleNamespace(county=COVERAGE_COUNTY, service=SimpleNamespace(store=store, repo=Repository(store), runners={}),
                          actor=Actor(sub="bench", role="auditor", county=COVERAGE_COUNTY))  # reads the whole county
    times = []
    for _ in range(3):
        t = time.perf_counter()
        await report_as_of(ctx, date(2026, 10, 31), datetime.now(UTC))
        times.append(time.perf_counter() - t)
    return round(statistics.median(times), 3), round(times[0], 3), n


async def main() -> None:
    args = arguments("audit", 1_000_000, [(("--coverage-scale",), {"type": float, "default": 1.0}),
                                          (("--queries",), {"type": int, "default": 1000})])
    with tempfile.TemporaryDirectory(prefix="bench-audit-") as tmp:
        server = EmbeddedNats(Path(tmp) / "nats", sync_always=not args.no_fsync).start()
        nc = None
        try:
            nc = await nats.connect(server.url, name="bench-audit")
            creds = Path(tmp) / "credentials"
            signers = bench_signers(creds)
            ensure_writer_keys(creds, (EXPORTER,))
            keys = EventKeys.load(creds)
            sign_us, verify_us = sign_verify_us(signers["ratings"], keys)
            say(f"sign {sign_us} µs/event, verify {verify_us} µs/event (Ed25519 over the hash)")
            store = EventStore(nc)
            await store.add_county_stream(COUNTY)
            t = time.perf_counter()
            last = await append_all(store, COUNTY, ratings_log(args.n, signers["ratings"]))
            say(f"{last} signed events written in {time.perf_counter() - t:.1f}s")
            store.authenticator = Authenticator(nc.jetstream(), keys)  # as the services load aggregates
            signing._SIGNED_HERE.clear()  # read as another process (an auditor's, the archive's) would

            subject = subject_for(COUNTY, "ratings", "points", points_aggregate_id(YEAR, "member", TARGET))
            raw, asof = [], []
            k = Knowledge(date(YEAR, 12, 31), datetime.now(UTC))
            entries = await as_of_member(store, k)  # warm-up (first load verifies the signatures)
            for _ in range(args.queries):
                t = time.perf_counter()
                await store._direct_all(COUNTY, subject)
                raw.append(time.perf_counter() - t)
                t = time.perf_counter()
                await as_of_member(store, k)
                asof.append(time.perf_counter() - t)
            (raw50, raw99), (p50, p99) = percentiles(raw), percentiles(asof)
            say(f"as-of member ({entries} events in its handbook): p50 {p50} ms, p99 {p99} ms; raw Direct Get "
                f"p50 {raw50} ms, p99 {raw99} ms")

            from services.ratings.audit import DistributionAsOfQuery, _distribution
            t = time.perf_counter()
            books: dict[str, PointsFold] = {}
            async for ev in store.read_matching(COUNTY, f"pb.{COUNTY}.evt.ratings.points.{YEAR}.>", bulk=True):
                fold = books.get(ev.aggregate_id)
                if fold is None:
                    fold = books[ev.aggregate_id] = PointsFold(k)
                fold.feed(ev)
            schemes_evs = await store.load(COUNTY, subject_for(COUNTY, "ratings", "scheme",
                                                               scheme_aggregate_id(YEAR, "member", None)))
            schemes = {"member": {"county": scheme_as_known(schemes_evs, k)}, "organization": {}}
            places = Places()
            async for ev in store.read_matching(COUNTY, f"pb.{COUNTY}.evt.org.organization.>"):
                places.feed((ev,), k)
            dist = _distribution(books, schemes, {}, places, k, YEAR, DistributionAsOfQuery(as_of=k.as_of))
            distribution_s = time.perf_counter() - t
            say(f"as-of distribution: {dist['members']['rated']} members rated, {distribution_s:.2f}s")

            t = time.perf_counter()
            async for _ in store.read_raw(COUNTY):
                pass
            raw_read_s = time.perf_counter() - t
            t = time.perf_counter()
            async for _ in read_log(store, COUNTY):  # what verify and export read with: a connection of their own
                pass
            own_read_s = time.perf_counter() - t
            t = time.perf_counter()
            report = await verify_county(store, COUNTY, keys)
            verify_s = time.perf_counter() - t
            say(f"verify: {report.checked} events, ok={report.ok}, {verify_s:.1f}s (raw read {raw_read_s:.1f}s, "
                f"own connection {own_read_s:.1f}s)")
            t = time.perf_counter()
            manifest = await export_county(store, COUNTY, Path(tmp) / "export.jsonl", Signer.load(creds, EXPORTER))
            export_s = time.perf_counter() - t
            say(f"export: {manifest['count']} events, {export_s:.1f}s")

            coverage_s, coverage_cold_s, coverage_events = await coverage_as_of(nc, args.coverage_scale, signers["org"], keys)
            say(f"as-of coverage over {coverage_events} events of two years: {coverage_s}s (first {coverage_cold_s}s)")
            scale_1m = 1_000_000 / args.n
            figures = {"bench": "audit", "n": args.n, "queries": args.queries, "fsync": not args.no_fsync,
                       "as_of_member_events": entries, "as_of_member_p50_ms": p50, "as_of_member_p99_ms": p99,
                       "raw_direct_get_p50_ms": raw50, "raw_direct_get_p99_ms": raw99,
                       "as_of_member_p99_ratio": round(p99 / raw99, 2) if raw99 else None,
                       "as_of_distribution_s": round(distribution_s, 3), "as_of_coverage_s": coverage_s,
                       "as_of_coverage_first_s": coverage_cold_s,
                       "coverage_events": coverage_events, "verify_s": round(verify_s, 2),
                       "verify_1m_s": round(verify_s * scale_1m, 2), "verify_ok": report.ok,
                       "export_s": round(export_s, 2), "export_1m_s": round(export_s * scale_1m, 2),
                       "raw_read_s": round(raw_read_s, 2), "own_connection_read_s": round(own_read_s, 2),
                       "verify_ratio": round(verify_s / raw_read_s, 2),
                       "export_ratio": round(export_s / raw_read_s, 2), "sign_us_per_event": sign_us,
                       "verify_us_per_event": verify_us, "extrapolated_1m": args.n != 1_000_000}
        finally:
            if nc:
                await nc.close()
            server.stop()
    figures["peak_rss_mb"] = peak_rss_mb()
    emit(figures)


if __name__ == "__main__":
    asyncio.run(main())
