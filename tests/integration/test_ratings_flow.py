"""Ratings end to end through NATS: real services, real JetStream, real SQLite read-models."""
from __future__ import annotations

import asyncio

from shared.auth import Actor
from tests.integration.scenario import expect_ok, make_county


async def score(caller, county, member, points=6, category="leadership_team", key=None, **extra):
    data = {"rated_kind": "member", "rated_id": member, "year": 2026, "category": category, "points": points,
            "reason": "带头参与防汛抢险", "occurred_on": "2026-06-01", "idempotency_key": key or f"k-{member}-{points}"}
    data.update(extra)
    return await caller.cmd(county.code, "ratings", "record_score", data)


async def test_score_lights_stars_and_reads_back(system, caller):
    c = await make_county(caller)
    m = c.members[0]
    r1 = expect_ok(await score(caller, c, m, 6, key="a"))
    r2 = expect_ok(await score(caller, c, m, 4, key="b"))
    r3 = expect_ok(await score(caller, c, m, 10, category="economic_development", key="c"))
    rating = expect_ok(await caller.qry(c.code, "ratings", "member_rating", {"member_id": m, "year": 2026},
                                        min_seq=r3["seq"]))["data"]
    assert rating["points_by_category"]["leadership_team"] == 10
    lit = {s["category"]: s["colour"] for s in rating["stars"] if s["colour"]}
    assert lit == {"leadership_team": "gold", "economic_development": "gold"}
    assert rating["total_stars"] == 2
    # idempotent replay returns the first result and appends nothing
    again = expect_ok(await score(caller, c, m, 6, key="a"))
    assert again["data"] == {"score_id": r1["data"]["score_id"], "replayed": True}
    # revocation is a new event; points drop
    rv = expect_ok(await caller.cmd(c.code, "ratings", "revoke_score",
                                    {"score_id": r2["data"]["score_id"], "reason": "证明材料不实"}))
    rating = expect_ok(await caller.qry(c.code, "ratings", "member_rating", {"member_id": m, "year": 2026},
                                        min_seq=rv["seq"]))["data"]
    assert rating["points_by_category"]["leadership_team"] == 6
    assert {s["colour"] for s in rating["stars"] if s["category"] == "leadership_team"} == {"red"}


async def test_refusals_are_clear(system, caller):
    c = await make_county(caller)
    m = c.members[0]
    cases = [
        (dict(rated_id="nobody"), 404, "member_not_found"),
        (dict(category="no_such_star"), 422, "category_not_in_scheme"),
        (dict(points=50), 422, "points_out_of_bounds"),
        (dict(occurred_on="2099-01-01"), 422, None),
        (dict(occurred_on="2025-12-31"), 422, "occurred_on_outside_year"),
    ]
    for extra, status, code in cases:
        reply = await score(caller, c, m, key=f"bad-{len(str(extra))}-{status}", **extra)
        assert not reply["ok"] and reply["error"]["status"] == status, (extra, reply)
        if code:
            assert reply["error"]["code"] == code, reply
        assert reply["error"]["errors"] or status == 404
    expect_ok(await score(caller, c, m, 5, key="same"))
    reused = await score(caller, c, m, 7, key="same")
    assert reused["error"]["code"] == "idempotency_key_reused" and reused["error"]["status"] == 409
    expect_ok(await caller.cmd(c.code, "ratings", "close_year", {"year": 2026}))
    closed = await score(caller, c, m, 3, key="late")
    assert closed["error"]["code"] == "rating_year_closed"
    no_reason = await caller.cmd(c.code, "ratings", "reopen_year", {"year": 2026, "reason": "  "})
    assert no_reason["error"]["status"] == 422
    expect_ok(await caller.cmd(c.code, "ratings", "reopen_year", {"year": 2026, "reason": "补录汛期表现"}))
    expect_ok(await score(caller, c, m, 3, key="late"))


async def test_two_writers_scoring_one_member_lose_nothing(system, caller):
    c = await make_county(caller, branches=1, members_per_branch=1)
    m = c.members[0]
    results = await asyncio.gather(*[score(caller, c, m, 1, category="member_corps", key=f"w{i}")
                                     for i in range(40)])
    assert all(r["ok"] for r in results), [r for r in results if not r["ok"]][:1]
    last = max(r["seq"] for r in results)
    rating = expect_ok(await caller.qry(c.code, "ratings", "member_rating", {"member_id": m, "year": 2026},
                                        min_seq=last))["data"]
    assert rating["points_by_category"]["member_corps"] == 40
    assert len(rating["scores"]) == 40


async def test_branch_secretary_scores_only_own_branch(system, caller):
    c = await make_county(caller)
    sec = Actor(sub="sec1", role="branch_secretary", county=c.code, branch=c.branches[0])
    own = await caller.send(c.code, "cmd", "ratings", "record_score", {
        "rated_kind": "member", "rated_id": c.members[0], "year": 2026, "category": "member_corps", "points": 2,
        "reason": "按时交纳党费并带头志愿服务", "occurred_on": "2026-03-01", "idempotency_key": "s1"}, actor=sec)
    other = await caller.send(c.code, "cmd", "ratings", "record_score", {
        "rated_kind": "member", "rated_id": c.members[-1], "year": 2026, "category": "member_corps", "points": 2,
        "reason": "按时交纳党费并带头志愿服务", "occurred_on": "2026-03-01", "idempotency_key": "s2"}, actor=sec)
    assert own["ok"], own
    assert other["error"]["status"] == 403
    auditor = Actor(sub="aud", role="auditor", county=c.code)
    denied = await caller.send(c.code, "cmd", "ratings", "close_year", {"year": 2026}, actor=auditor)
    assert denied["error"]["status"] == 403
    foreign = Actor(sub="x", role="county_admin", county="110101")
    cross = await caller.send(c.code, "qry", "ratings", "star_distribution", {"year": 2026}, actor=foreign)
    assert cross["error"]["status"] == 403


async def test_distribution_and_organization_class(system, caller):
    c = await make_county(caller, branches=2, members_per_branch=2)
    seq = 0
    for cat in ["leadership_team", "member_corps", "rules_in_practice", "activity_venue", "public_satisfaction",
                "economic_development", "village_governance", "serving_the_people"]:
        r = expect_ok(await caller.cmd(c.code, "ratings", "record_score", {
            "rated_kind": "organization", "rated_id": c.branches[0], "year": 2026, "category": cat, "points": 10,
            "reason": "年度考核达标", "occurred_on": "2026-05-01", "idempotency_key": f"o-{cat}"}))
        seq = r["seq"]
    r = expect_ok(await score(caller, c, c.members[0], 10, key="m0"))
    dist = expect_ok(await caller.qry(c.code, "ratings", "star_distribution", {"year": 2026},
                                      min_seq=max(seq, r["seq"])))["data"]
    assert dist["organizations"]["class_one"] == 1
    assert dist["members"]["by_stars"] == {"1": 1}
    branch0 = next(b for b in dist["branches"] if b["branch_id"] == c.branches[0])
    assert branch0["own_stars"] == 8 and branch0["own_class"] == "class_one"
    assert branch0["member_distribution"] == {"1": 1}
