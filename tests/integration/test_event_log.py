"""The event log's promises: dedupe by event id, crash-safe projections (verification:
tests/integration/test_audit_log.py),
rebuilds equal to the live read-model, malformed events stop (not skip) a projection."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from datetime import date

import orjson
from sqlalchemy import select

from shared.catalog.ratings import MemberScored
from shared.db import make_engine
from shared.envelope import Metadata, seal, subject_for
from shared.eventstore import EventStore, stream_name
from shared.checkpoints import read_checkpoint
from shared.signing import Signer
from services.ratings.projections.stars import StarsProjection
from tests.integration.projection_worker import SUFFIX
from tests.integration.scenario import expect_ok, make_county, snapshot


def scored(member: str, n: int, points: int = 1) -> MemberScored:
    return MemberScored(score_id=f"s-{member}-{n}", member_id=member, year=2026, category="member_corps",
                        points=points, reason="带头参加义务劳动", occurred_on=date(2026, 4, 1),
                        idempotency_key=f"direct-{member}-{n}")


def ratings_signer(system) -> Signer:
    return Signer.load(system.settings.credentials_path, "ratings")


async def test_republished_event_with_same_id_is_dropped(system, caller, nc):
    c = await make_county(caller, branches=1, members_per_branch=1)
    store = EventStore(nc)
    env = seal(c.code, f"2026.member.{c.members[0]}", scored(c.members[0], 1), Metadata("test"), None,
               signer=ratings_signer(system))
    subject = subject_for(c.code, "ratings", "points", env["aggregate_id"])
    js = nc.jetstream()
    first = await js.publish(subject, orjson.dumps(env), headers={"Nats-Msg-Id": env["event_id"]})
    again = await js.publish(subject, orjson.dumps(env), headers={"Nats-Msg-Id": env["event_id"]})
    assert again.duplicate and again.seq == first.seq
    # stored once on its subject (the services may append other events to the county meanwhile, e.g. reminders)
    info = await js.stream_info(stream_name(c.code), subjects_filter=subject)
    assert info.state.subjects == {subject: 1}


async def test_projection_killed_mid_batch_resumes_without_loss_or_double_count(system, caller, nc, tmp_path):
    c = await make_county(caller, branches=1, members_per_branch=4)
    store = EventStore(nc)
    db_url = f"sqlite:///{tmp_path / 'killed.sqlite'}"
    worker = [sys.executable, "-m", "tests.integration.projection_worker", system.nats_url, c.code, db_url]
    env = {**os.environ, "PYTHONPATH": os.getcwd(), "DANGJIAN_CREDENTIALS_DIR": str(system.settings.credentials_path)}
    log = open(tmp_path / "worker.log", "ab")

    def start_worker() -> subprocess.Popen:
        p = subprocess.Popen(worker, env=env, stdout=subprocess.PIPE, stderr=log)
        assert p.stdout.readline().strip() == b"started"
        return p

    proc = start_worker()
    per_member, signer = 1500, ratings_signer(system)
    for m in c.members:  # 6,000 scores in atomic batches, while the worker folds them
        for start in range(0, per_member, 500):
            items, prev, agg = [], None, f"2026.member.{m}"
            subject = subject_for(c.code, "ratings", "points", agg)
            expected = (await store.load(c.code, subject))
            prev, version = (expected[-1].hash, expected[-1].seq) if expected else (None, 0)
            for n in range(start, start + 500):
                e = seal(c.code, agg, scored(m, n), Metadata("test"), prev, signer=signer)
                prev = e["hash"]
                items.append((subject, e, version if n == start else None))
            await store.append_atomic(c.code, items)
    engine = make_engine(db_url)
    last = await store.last_seq(c.code)
    for _ in range(4):  # kill it hard at arbitrary points of the catch-up, restart, repeat
        await asyncio.sleep(0.15)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc = start_worker()
    try:
        for _ in range(300):
            with engine.connect() as conn:
                seq = read_checkpoint(conn, "ratings.stars" + SUFFIX, c.code)[0]
            if seq >= last:
                break
            await asyncio.sleep(0.1)
        assert seq == last, (tmp_path / "worker.log").read_text()[-3000:]
        p = StarsProjection(suffix=SUFFIX)
        with engine.connect() as conn:
            rows = conn.execute(select(p.points.c.rated_id, p.points.c.points).where(
                p.points.c.county == c.code, p.points.c.category == "member_corps")).all()
            scores = conn.execute(select(p.scores.c.score_id).where(p.scores.c.county == c.code)).all()
        assert sorted(v for _, v in rows) == [per_member] * len(c.members)
        assert len(scores) == per_member * len(c.members)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        engine.dispose()


async def test_rebuild_equals_live_read_model(system, caller):
    c = await make_county(caller, branches=2, members_per_branch=3)
    seq = 0
    for i, m in enumerate(c.members):
        r = expect_ok(await caller.cmd(c.code, "ratings", "record_score", {
            "rated_kind": "member", "rated_id": m, "year": 2026, "category": "member_corps", "points": 1 + i % 5,
            "reason": "带头参加义务劳动", "occurred_on": "2026-04-01", "idempotency_key": f"r{i}"}))
        seq = r["seq"]
        if i % 2:
            r = expect_ok(await caller.cmd(c.code, "ratings", "revoke_score",
                                           {"score_id": r["data"]["score_id"], "reason": "重复记分"}))
            seq = r["seq"]
    r = expect_ok(await caller.cmd(c.code, "organizations", "transfer_member", {
        "member_id": c.members[0], "to_branch_id": c.branches[1], "transferred_on": "2026-05-01"}))
    ratings = system.service("ratings")
    await ratings.caught_up(c.code, r["seq"])
    live = ratings.projection(StarsProjection)
    before = snapshot(ratings.engine, live, c.code)
    result = await ratings.rebuild(c.code, StarsProjection)
    assert result["events"] >= r["seq"]
    after = snapshot(ratings.engine, live, c.code)
    assert after == before
    assert sum(len(v) for v in after.values()) > 20
    # the live projection keeps going after the swap
    r = expect_ok(await caller.cmd(c.code, "ratings", "record_score", {
        "rated_kind": "member", "rated_id": c.members[1], "year": 2026, "category": "member_corps", "points": 2,
        "reason": "带头参加义务劳动", "occurred_on": "2026-04-02", "idempotency_key": "after-rebuild"}))
    expect_ok(await caller.qry(c.code, "ratings", "member_rating", {"member_id": c.members[1], "year": 2026},
                               min_seq=r["seq"]))


async def test_malformed_event_stops_projection_and_shows_in_health(system, caller, nc):
    c = await make_county(caller, branches=1, members_per_branch=1)
    ack = await nc.jetstream().publish(f"pb.{c.code}.evt.ratings.points.2026.member.{c.members[0]}",
                                       b'{"type": "MemberScored", "not": "an envelope"}')
    ratings = system.service("ratings")
    runner = ratings.runners[("ratings.stars", c.code)]
    for _ in range(100):
        if runner.error:
            break
        await asyncio.sleep(0.05)
    assert runner.error and runner.error[0] == ack.seq
    health = await ratings.health()
    mine = next(p for p in health["projections"] if p["county"] == c.code and p["projection"] == "ratings.stars")
    assert health["status"] == "degraded" and mine["error"]["seq"] == ack.seq
    assert mine["checkpoint"] == ack.seq - 1  # everything before it was applied, nothing after
