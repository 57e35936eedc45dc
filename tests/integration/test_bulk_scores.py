"""record_scores (积分表 in bulk) through NATS against the real service: one result per entry, each entry
refused or recorded on its own, idempotent per key; and its decision taken again on fresh state when a
concurrent write refused the batch."""
from __future__ import annotations

from datetime import date

from services.ratings.bulk import _Entry, decide_entries
from services.ratings.commands import RecordScore
from services.ratings.domain import PointsBook, points_aggregate_id
from services.ratings.scheme import PRESETS, StarScheme
from shared.aggregate import Repository
from shared.auth import Actor
from shared.catalog.ratings import StarSchemeDefined
from shared.envelope import Metadata
from shared.eventstore import EventStore
from tests.conftest import new_county
from tests.integration.scenario import expect_ok, make_county


def entry(member: str, points: int, key: str, **extra) -> dict:
    return {"rated_kind": "member", "rated_id": member, "year": 2026, "category": "member_corps", "points": points,
            "reason": "带头参与防汛抢险", "occurred_on": "2026-06-01", "idempotency_key": key, **extra}


async def test_each_entry_is_decided_and_answered_on_its_own(system, caller):
    c = await make_county(caller)
    m0, m1, other_branch = c.members[0], c.members[1], c.members[-1]
    sec = Actor(sub="sec-bulk", role="branch_secretary", county=c.code, branch=c.branches[0])
    entries = [entry(m0, 3, "b-1"), entry(m0, 2, "b-2"), entry(m1, 4, "b-3"),
               entry(m0, 0, "b-4"),                          # points 0: invalid input
               entry("nobody", 1, "b-5"),                    # no such member
               entry(m1, 1, "b-6", category="no_such_star"),  # not in the scheme
               entry(other_branch, 1, "b-7"),                # outside the secretary's branch
               entry(m0, 3, "b-1"),                          # the first row again: replayed
               entry(m0, 5, "b-2")]                          # key b-2 with other content
    reply = expect_ok(await caller.send(c.code, "cmd", "ratings", "record_scores", {"scores": entries}, actor=sec))
    results = reply["data"]["results"]
    assert [r["index"] for r in results] == list(range(len(entries)))
    assert [r["ok"] for r in results] == [True, True, True, False, False, False, False, True, False]
    codes = [r["error"] and r["error"]["code"] for r in results]
    assert codes[3:7] == ["invalid_input", "member_not_found", "category_not_in_scheme", "forbidden"]
    assert results[3]["error"]["errors"][0]["field"] == "points"
    assert codes[8] == "idempotency_key_reused"
    assert results[7]["replayed"] and results[7]["score_id"] == results[0]["score_id"]
    assert (reply["data"]["recorded"], reply["data"]["replayed"], reply["data"]["refused"]) == (3, 1, 5)

    rating = expect_ok(await caller.qry(c.code, "ratings", "member_rating", {"member_id": m0, "year": 2026},
                                        min_seq=reply["seq"]))["data"]
    assert rating["points_by_category"]["member_corps"] == 5 and len(rating["scores"]) == 2

    again = expect_ok(await caller.send(c.code, "cmd", "ratings", "record_scores", {"scores": entries[:3]}, actor=sec))
    assert [r["replayed"] for r in again["data"]["results"]] == [True, True, True]
    assert [r["score_id"] for r in again["data"]["results"]] == [r["score_id"] for r in results[:3]]
    single = expect_ok(await caller.send(c.code, "cmd", "ratings", "record_score", entry(m1, 4, "b-3"), actor=sec))
    assert single["data"] == {"score_id": results[2]["score_id"], "replayed": True}


async def test_a_refused_batch_is_decided_again_on_fresh_state(nc):
    """Another writer scores a member after this instance cached the member's handbook: the bulk batch is
    refused as a whole (nothing stored), decided again on the fresh handbook, and the entry carrying the
    other writer's key answers that score instead of adding one."""
    county = new_county()
    store = EventStore(nc)
    await store.add_county_stream(county)
    mine, theirs = Repository(store), Repository(EventStore(nc))
    scheme = StarScheme.from_event(StarSchemeDefined(year=2026, rated_kind="member", name="2026年党员星级管理",
                                                     preset="532", slots=PRESETS["532"](), class_one_min_stars=8))
    books = [points_aggregate_id(2026, "member", m) for m in ("zhang-xiuling", "li-weidong")]
    for book in books:
        await mine.get(county, PointsBook, book)  # cached, empty
    day = date(2026, 7, 1)

    def entries(member: str, *keys: str, first: int = 0) -> list[_Entry]:
        return [_Entry(first + i, RecordScore(**entry(member, 2, key)), scheme, True, "qiaogang-village")
                for i, key in enumerate(keys)]

    other = await theirs.execute_many(county, Metadata("township_operator:wang"), [(PointsBook, books[0])],
                                      lambda states: decide_entries(states, [entries("zhang-xiuling", "k-1")], day))
    decided = []

    def decide(states):
        decided.append([len(s.keys) for s in states])
        return decide_entries(states, [entries("zhang-xiuling", "k-1", "k-2"), entries("li-weidong", "k-3", first=2)], day)

    out = await mine.execute_many(county, Metadata("county_admin:zhang"), [(PointsBook, b) for b in books], decide)
    assert decided == [[0, 0], [1, 0]]  # the refused first decision, then the fresh one
    assert out.result[0]["replayed"] and out.result[0]["score_id"] == other.result[0]["score_id"]
    assert not out.result[1]["replayed"] and not out.result[2]["replayed"] and len(out.appended) == 2
    stored = await store.load(county, Repository.subject(county, PointsBook, books[0]))
    assert [s.event.idempotency_key for s in stored] == ["k-1", "k-2"]
