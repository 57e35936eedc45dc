"""Rebuilds replay the log into a projection's rebuild fold (shared/replay.py): the in-memory folds of
ratings.stars, the organizations registry and coverage must give exactly the live read-model, whatever the
replay's batch boundaries."""
from __future__ import annotations

import asyncio
import gc

import orjson
import pytest
from nats.js.api import AckPolicy, ConsumerConfig
from nats.js.errors import NotFoundError
from sqlalchemy import select

from services.organizations.enterprises.projections.coverage import CoverageProjection
from services.organizations.registry.projections.registry import RegistryProjection
from services.organizations.enterprises.uscc import uscc_from_parts
from services.ratings.projections.stars import StarsProjection
from shared.envelope import MalformedEvent
from shared.eventstore import EventStore, stream_name
from shared.db import make_engine
from shared.projection_runner import ProjectionRunner
from shared.rebuild import rebuild_county
from shared.replay import replay
from tests.integration.scenario import expect_ok, make_county, snapshot


async def rebuilt_equals_live(service, ptype, county: str, seq: int, replay_batch: int) -> dict:
    """Rebuild a projection of the county through its rebuild fold; the rows must be the live ones.
    Returns the live rows (for each test's own checks)."""
    await service.caught_up(county, seq)
    live = service.projection(ptype)
    before = snapshot(service.engine, live, county)
    result = await rebuild_county(service.nc, service.engine, ptype, county,
                                  live=service.runners[(ptype.name, county)], replay_batch=replay_batch)
    assert result["events"] >= seq
    assert snapshot(service.engine, live, county) == before
    return before


async def score(caller, county: str, kind: str, rated: str, category: str, points: int, key: str) -> dict:
    return expect_ok(await caller.cmd(county, "ratings", "record_score", {
        "rated_kind": kind, "rated_id": rated, "year": 2026, "category": category, "points": points,
        "reason": "带头参与防汛抢险，组织群众转移", "occurred_on": "2026-06-01", "idempotency_key": key}))


async def revoke(caller, county: str, score_id: str) -> dict:
    return expect_ok(await caller.cmd(county, "ratings", "revoke_score", {"score_id": score_id, "reason": "证明材料不实"}))


@pytest.mark.parametrize("replay_batch", [3, 10_000], ids=["small-batches", "one-batch"])
async def test_stars_rebuild_fold_equals_live(system, caller, replay_batch):
    c = await make_county(caller, branches=2, members_per_branch=3)
    m, b = c.members, c.branches
    first = await score(caller, c.code, "member", m[0], "member_corps", 4, "a0")
    second = await score(caller, c.code, "member", m[1], "leadership_team", 3, "a1")
    for i, member in enumerate(m):
        await score(caller, c.code, "member", member, "member_corps", 1 + i % 4, f"b{i}")
    org_score = await score(caller, c.code, "organization", b[0], "economic_development", 5, "o0")
    await score(caller, c.code, "organization", b[1], "village_governance", 2, "o1")
    # revocations: one of a score many events back (an earlier replay batch), one right after its score
    await revoke(caller, c.code, first["data"]["score_id"])
    late = await score(caller, c.code, "member", m[2], "member_corps", 2, "c2")
    await revoke(caller, c.code, late["data"]["score_id"])
    await revoke(caller, c.code, org_score["data"]["score_id"])
    # a member moves to the other branch after being scored
    expect_ok(await caller.cmd(c.code, "organizations", "transfer_member", {
        "member_id": m[0], "to_branch_id": b[1], "transferred_on": "2026-05-01"}))
    # the township gets its own member scheme (a different preset): every member's stars are re-rated
    expect_ok(await caller.cmd(c.code, "ratings", "define_scheme", {
        "year": 2026, "name": "侨港镇党员五星", "preset": "beihai-5", "township_id": c.township}))
    await score(caller, c.code, "member", m[3], "lead_by_example", 6, "d3")
    # the county's organization scheme is redefined with another 一类 cut
    expect_ok(await caller.cmd(c.code, "ratings", "define_scheme", {
        "year": 2026, "name": "2026年村党组织星级管理", "preset": "532", "rated_kind": "organization",
        "class_one_min_stars": 1}))
    expect_ok(await caller.cmd(c.code, "ratings", "close_year", {"year": 2026, "reason": "年度评星结束"}))
    expect_ok(await caller.cmd(c.code, "ratings", "reopen_year", {"year": 2026, "reason": "补录防汛积分"}))
    r = await revoke(caller, c.code, second["data"]["score_id"])

    thresholds = gc.get_threshold()
    before = await rebuilt_equals_live(system.service("ratings"), StarsProjection, c.code, r["seq"], replay_batch)
    assert gc.get_threshold() == thresholds  # the replay's garbage-collector setting is undone
    assert len(before["ratings_stars"]) == len(m) + 2 and len(before["ratings_score"]) == len(m) + 6
    assert sum(1 for row in before["ratings_score"] if row[-2] == "True") == 4
    # the live projection goes on from the swapped-in checkpoint
    after = await score(caller, c.code, "member", m[4], "lead_by_example", 1, "after")
    expect_ok(await caller.qry(c.code, "ratings", "member_rating", {"member_id": m[4], "year": 2026},
                               min_seq=after["seq"]))


APPROVED = {"approved_by": "中共银海区委组织部", "approved_on": "2026-03-01"}


@pytest.mark.parametrize("replay_batch", [3, 10_000], ids=["small-batches", "one-batch"])
async def test_registry_rebuild_fold_equals_live(system, caller, replay_batch):
    """Every lifecycle event, member transfers before and after their organization's merge, events of
    rows written many replayed batches back and of rows in the same batch."""
    c = await make_county(caller, branches=3, members_per_branch=2, preset="")
    b, m = c.branches, c.members

    async def org(command: str, oid: str, **data) -> dict:
        return expect_ok(await caller.cmd(c.code, "organizations", command, {"organization_id": oid, **data}))

    async def transfer(member: str, to: str) -> dict:
        return expect_ok(await caller.cmd(c.code, "organizations", "transfer_member", {
            "member_id": member, "to_branch_id": to, "transferred_on": "2026-05-01"}))

    await transfer(m[0], b[1])
    await org("rename_organization", b[0], new_name="侨港镇侨港社区党支部", **APPROVED)
    await org("upgrade_organization", b[0], to_type="general_branch", **APPROVED)
    await org("elect_committee", b[1], elected_on="2026-04-01", committee=[
        {"role": "secretary", "name": "黄海燕"}, {"role": "deputy_secretary", "name": "陈国强"}])
    await org("postpone_election", b[1], new_due_on="2031-06-30", reason="台风灾后重建", **APPROVED)
    await org("transfer_organization", b[2], to_parent_id=b[0], to_township_id=c.township, **APPROVED)
    await org("dissolve_organization", b[1], reason="村庄整体搬迁", **APPROVED)
    await org("restore_organization", b[1], reason="恢复建制", **APPROVED)
    await transfer(m[4], b[1])  # out of the branch merged next
    await org("merge_organization", b[2], into_organization_id=b[0], **APPROVED)  # moves m[5] to b[0]
    r = await transfer(m[0], b[0])  # the member moved first of all, moved again

    before = await rebuilt_equals_live(system.service("organizations"), RegistryProjection, c.code, r["seq"],
                                       replay_batch)
    rows = {row[1]: row for row in before["org_organization"]}
    assert rows[b[2]][9] == "merged" and rows[b[1]][9] == "active" and rows[b[1]][11] == "黄海燕"
    assert sorted(row[7] for row in before["org_member"]) == sorted([b[0]] * 3 + [b[1]] * 3)


@pytest.mark.parametrize("replay_batch", [3, 10_000], ids=["small-batches", "one-batch"])
async def test_coverage_rebuild_fold_equals_live(system, caller, replay_batch):
    """Units changed many replayed batches after their registration and in the same batch: headcounts, a
    closure and a reopening, a joint branch over two units, an instructor assigned then withdrawn, 工青妇."""
    c = await make_county(caller, branches=0, members_per_branch=0, preset="")

    async def cmd(command: str, **data) -> dict:
        return expect_ok(await caller.cmd(c.code, "organizations", command, data))

    u = []
    for i in range(4):
        r = await cmd("register_enterprise", uscc=uscc_from_parts("450503", f"{c.code}{i:02d}"),
                      name=f"北海某海产品公司{i}", unit_type="private_enterprise", township_id=c.township,
                      industry="制造业", employees=40 + i, full_members=1 + 2 * i, registered_on="2025-01-10")
        u.append(r["data"]["enterprise_id"])
    await cmd("update_headcount", enterprise_id=u[0], employees=55, full_members=2, effective_on="2025-03-01")
    await cmd("found_enterprise_branch", enterprise_ids=[u[0], u[1]], founding_mode="joint",
              organization_name="侨港镇非公企业联合党支部", approved_by="中共银海区委组织部", approved_on="2025-04-01",
              founded_on="2025-04-01")
    await cmd("assign_instructor", enterprise_id=u[2], person_name="刘建华", role="instructor", assigned_on="2025-05-01")
    await cmd("record_mass_organization", enterprise_id=u[0], kind="trade_union", established_on="2025-06-01")
    await cmd("record_mass_organization", enterprise_id=u[0], kind="youth_league", established_on="2025-06-02")
    await cmd("close_enterprise", enterprise_id=u[3], status="suspended", closed_on="2025-07-01", reason="停产整顿")
    await cmd("withdraw_instructor", enterprise_id=u[2], withdrawn_on="2025-08-01")
    await cmd("assign_instructor", enterprise_id=u[3], person_name="陈海生", role="liaison", assigned_on="2025-08-01")
    await cmd("reopen_enterprise", enterprise_id=u[3], reopened_on="2025-09-01", reason="恢复生产")
    r = await cmd("update_headcount", enterprise_id=u[3], employees=12, full_members=4, effective_on="2025-10-01")

    before = await rebuilt_equals_live(system.service("organizations"), CoverageProjection, c.code, r["seq"],
                                       replay_batch)
    rows = {row[1]: row for row in before["org_enterprise"]}
    assert rows[u[0]][14] == rows[u[1]][14] != "None" and rows[u[0]][18] == "trade_union,youth_league"
    assert rows[u[2]][16] == "None" and rows[u[3]][10] == "operating" and rows[u[3]][16] == "陈海生"


async def test_malformed_event_fails_the_rebuild_with_its_sequence(system, caller, nc):
    c = await make_county(caller, branches=1, members_per_branch=1)
    await score(caller, c.code, "member", c.members[0], "member_corps", 2, "m0")
    ack = await nc.jetstream().publish(f"pb.{c.code}.evt.ratings.points.2026.member.{c.members[0]}",
                                       orjson.dumps({"type": "MemberScored", "not": "an envelope"}))
    ratings = system.service("ratings")
    with pytest.raises(MalformedEvent, match=f"seq {ack.seq}"):
        await rebuild_county(ratings.nc, ratings.engine, StarsProjection, c.code)
    for i in range(len(StarsProjection.subjects)):  # the replay's consumers (one per subject) are gone with it
        with pytest.raises(NotFoundError):
            await nc.jetstream().consumer_info(stream_name(c.code), f"ratings_stars__rebuild_replay_{i}")


async def test_replay_connection_skips_data_headers_but_keeps_status_lines(nats_server, nc):
    from shared.replay_wire import replay_connection

    own = await replay_connection(nc)
    assert own is not None
    js = nc.jetstream()
    await js.add_stream(name="REPLAY_PROBE", subjects=["replay.probe"])
    try:
        got: list = []

        async def received(msg) -> None:
            got.append(msg)

        inbox = own.new_inbox()
        await own.subscribe(inbox, cb=received)
        await own.flush()  # the subscription is known to the server before the other connection publishes
        await nc.publish(inbox, b"event", headers={"Nats-Msg-Id": "e1"})
        await nc.flush()  # sent now, not at the shared connection's next flush
        await received_count(got, 1)
        assert got[0].data == b"event" and got[0].headers is None
        # a pull on an empty consumer answers with a status line only
        await js.add_consumer("REPLAY_PROBE", ConsumerConfig(name="probe", ack_policy=AckPolicy.NONE))
        await own.publish("$JS.API.CONSUMER.MSG.NEXT.REPLAY_PROBE.probe", b'{"batch": 1, "no_wait": true}',
                          reply=inbox)
        await received_count(got, 2)
        assert got[1].data == b"" and got[1].headers["Status"] == "404"
    finally:
        await own.close()
        await js.delete_stream("REPLAY_PROBE")


async def received_count(got: list, n: int) -> None:
    for _ in range(750):  # up to 15 s: a loaded machine delays the other connection's read loop
        if len(got) >= n:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{len(got)} of {n} messages received")


async def test_rebuild_of_a_county_with_nothing_to_fold(system, caller):
    c = await make_county(caller, branches=0, members_per_branch=0, preset="")  # county and township events only
    ratings = system.service("ratings")
    last = await EventStore(ratings.nc).last_seq(c.code)
    result = await rebuild_county(ratings.nc, ratings.engine, StarsProjection, c.code)
    assert result["events"] == last
    assert not any(snapshot(ratings.engine, ratings.projection(StarsProjection), c.code).values())


class _Recording:
    """A rebuild fold that only notes the sequences it is handed."""

    def __init__(self) -> None:
        self.seqs: list[int] = []
        self.finished = False

    def fold(self, events) -> None:
        self.seqs.extend(ev.seq for ev in events)

    def finish(self) -> None:
        self.finished = True


@pytest.mark.parametrize("shared_connection", [False, True], ids=["own-connection", "shared-connection"])
async def test_replay_merges_its_subjects_in_stream_order(system, caller, nc, tmp_path, monkeypatch, shared_connection):
    """One consumer per subject, merged: every matching event up to the end, once, in stream order — with
    pulls of two messages and room for five, so readers wait on each other and on the budget."""
    import shared.replay as replay_module
    import shared.replay_log as replay_log

    c = await make_county(caller, branches=5, members_per_branch=2)  # organizations and members interleaved
    await score(caller, c.code, "member", c.members[0], "member_corps", 2, "m0")
    r = expect_ok(await caller.cmd(c.code, "organizations", "transfer_member", {
        "member_id": c.members[0], "to_branch_id": c.branches[1], "transferred_on": "2026-05-01"}))
    await score(caller, c.code, "member", c.members[1], "member_corps", 3, "m1")  # after the end: not replayed
    monkeypatch.setattr(replay_log, "PULL", 2)
    monkeypatch.setattr(replay_log, "BUFFERED", 5)
    monkeypatch.setattr(replay_log, "STALL_S", 5.0)
    if shared_connection:  # the fallback when the replay cannot open its own connection
        async def no_connection(nc):
            return None
        monkeypatch.setattr(replay_module, "replay_connection", no_connection)
    recording = _Recording()
    monkeypatch.setattr(StarsProjection, "rebuild_fold", lambda self, conn, county: recording)
    engine = make_engine(f"sqlite:///{tmp_path / 'merge.sqlite'}")
    fresh = StarsProjection(suffix="__merge")
    fresh.create_tables(engine)
    try:
        assert await replay(nc, engine, fresh, c.code, r["seq"], consumer="merge_replay", batch=3) == r["seq"]
    finally:
        engine.dispose()
    js = nc.jetstream()
    expected = []
    for seq in range(1, r["seq"] + 1):
        msg = await js.get_msg(stream_name(c.code), seq)
        if msg.subject.split(".evt.")[1].startswith(("org.organization.", "org.member.", "ratings.")) and \
                orjson.loads(msg.data)["type"] in StarsProjection.handles:
            expected.append(seq)
    assert recording.seqs == expected and recording.finished


async def test_replay_up_to_a_sequence_then_the_live_fold_goes_on_from_its_tables(system, caller, nc, tmp_path):
    """What a rebuild does when events arrive during its replay: the ordinary runner folds them on top of
    what the rebuild fold wrote (its score rows, points, stars and checkpoint)."""
    c = await make_county(caller, branches=2, members_per_branch=2)
    early = [await score(caller, c.code, "member", m, "member_corps", 3, f"e{i}") for i, m in enumerate(c.members)]
    middle = await score(caller, c.code, "member", c.members[0], "leadership_team", 2, "mid")
    await revoke(caller, c.code, early[1]["data"]["score_id"])  # revokes a score the replay folded
    await score(caller, c.code, "member", c.members[2], "member_corps", 5, "late")
    r = expect_ok(await caller.cmd(c.code, "organizations", "transfer_member", {
        "member_id": c.members[0], "to_branch_id": c.branches[1], "transferred_on": "2026-05-01"}))
    ratings = system.service("ratings")
    await ratings.caught_up(c.code, r["seq"])

    engine = make_engine(f"sqlite:///{tmp_path / 'handoff.sqlite'}")
    fresh = StarsProjection(suffix="__handoff")
    fresh.create_tables(engine)
    runner = ProjectionRunner(nc, engine, fresh, c.code)
    try:
        reached = await replay(nc, engine, fresh, c.code, middle["seq"], consumer="handoff_replay")
        assert reached == middle["seq"]
        await runner.start()
        assert runner.checkpoint == middle["seq"] and await runner.wait_for(r["seq"], 10)
        live = ratings.projection(StarsProjection)
        mine, theirs = snapshot(engine, fresh, c.code), snapshot(ratings.engine, live, c.code)
        assert {name.removesuffix("__handoff"): rows for name, rows in mine.items()} == theirs
    finally:
        await runner.stop()
        await nc.jetstream().delete_consumer(stream_name(c.code), runner.durable)
        engine.dispose()


def test_swap_replaces_one_countys_rows_and_keeps_the_others(tmp_path):
    """The swap empties a live table whole only when it holds no other county's rows."""
    from shared.freshdb import FreshStore
    from shared.rebuild import swap_rows

    engine = make_engine(f"sqlite:///{tmp_path / 'live.sqlite'}")
    live = RegistryProjection()
    live.create_tables(engine)

    def counties(names: dict[str, str]) -> None:
        with engine.begin() as conn:
            conn.execute(live.counties.insert(), [{"county": k, "name": v} for k, v in names.items()])

    def swap(county: str, name: str) -> dict:
        place = FreshStore(engine, f"swap.{county}")
        fresh = RegistryProjection(suffix="__rebuild")
        fresh.create_tables(place.engine)
        with place.engine.begin() as conn:
            conn.execute(fresh.counties.insert(), [{"county": county, "name": name}])
        try:
            swap_rows(engine, place, fresh, RegistryProjection(), county, 7)
        finally:
            place.discard(fresh)
        with engine.connect() as conn:
            return dict(conn.execute(select(live.counties.c.county, live.counties.c.name)).all())

    counties({"450503": "银海区", "450502": "海城区"})
    assert swap("450503", "银海区（新）") == {"450503": "银海区（新）", "450502": "海城区"}
    with engine.begin() as conn:
        conn.execute(live.counties.delete().where(live.counties.c.county == "450502"))
    assert swap("450503", "银海区") == {"450503": "银海区"}  # the table held this county only
    engine.dispose()
