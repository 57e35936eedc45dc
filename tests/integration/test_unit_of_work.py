"""Repository.execute_many against a real nats-server: one decision over several aggregates is
appended as one atomic batch; a concurrent write to any of them is decided again on fresh state; a
refused batch stores nothing; a batch whose ack was lost is not appended twice; a decision larger than
one batch is appended in chunks and decided again after a conflict without registering anything twice."""
from __future__ import annotations

from datetime import date

import pytest

from shared.aggregate import Decision, Repository
from shared.catalog.organizations import MemberRegistered, MemberTransferred
from shared.envelope import Metadata
from shared.errors import DomainError
from shared.eventstore import ATOMIC_MAX, EventStore
from services.organizations.registry.domain import Member
from tests.conftest import new_county

META = Metadata("county_admin:zhang")


def registered(member_id: str) -> MemberRegistered:
    return MemberRegistered(member_id=member_id, name="张秀玲", gender="female", birth_date=date(1980, 5, 1),
                            membership_status="full", joined_on=date(2010, 7, 1), branch_id="haixian-branch")


def moved(member: Member, to: str) -> MemberTransferred:
    return MemberTransferred(member_id=member.id, from_branch_id=member.branch_id, to_branch_id=to,
                             transferred_on=date(2024, 3, 15))


def register_missing(calls: list):
    """Registers every member not registered yet (an import's decision: safe to take again)."""
    def decide(members: list[Member]) -> Decision:
        calls.append([m.id for m in members if not m.exists])
        decision = Decision(answer={"registered": len(calls[-1])})
        for m in members:
            if not m.exists:
                decision.add(m, [registered(m.id)])
        return decision
    return decide


def move_all_to(branch: str, seen: list):
    def decide(members: list[Member]) -> Decision:
        seen.append({m.id: m.branch_id for m in members})
        decision = Decision()
        for m in members:
            decision.add(m, [moved(m, branch)])
        return decision
    return decide


@pytest.fixture
async def county(nc) -> str:
    code = new_county()
    await EventStore(nc).add_county_stream(code)
    return code


async def events_of(store: EventStore, county: str, member_id: str) -> list[str]:
    return [s.envelope["type"] for s in await store.load(county, Repository.subject(county, Member, member_id))]


async def test_one_decision_over_several_aggregates_is_one_atomic_batch(nc, county):
    store = EventStore(nc)
    repo, calls = Repository(store), []
    refs = [(Member, "zhang"), (Member, "li"), (Member, "wang"), (Member, "li")]  # each loaded once
    out = await repo.execute_many(county, META, refs, register_missing(calls))
    assert calls == [["zhang", "li", "wang"]] and out.result == {"registered": 3}
    assert [a.seq for a in out.appended] == [1, 2, 3] and out.seq == 3 == await store.last_seq(county)
    for mid in ("zhang", "li", "wang"):
        assert await events_of(store, county, mid) == ["MemberRegistered"]
        cached = await repo.get(county, Member, mid)  # the new state is cached with its sequence
        assert cached.state.exists and cached.version in (1, 2, 3)


async def test_a_concurrent_write_to_one_aggregate_is_decided_again_on_fresh_state(nc, county):
    store = EventStore(nc)
    repo, other, seen = Repository(store), Repository(store), []
    refs = [(Member, "zhang"), (Member, "li")]
    await repo.execute_many(county, META, refs, register_missing([]))
    await other.execute(county, Member, "li", META, lambda m: [moved(m, "fisher-branch")])  # repo's li is stale now
    out = await repo.execute_many(county, META, refs, move_all_to("harbour-branch", seen))
    assert seen == [{"zhang": "haixian-branch", "li": "haixian-branch"},  # stale: refused by the server
                    {"zhang": "haixian-branch", "li": "fisher-branch"}]  # decided again on the log
    assert len(out.appended) == 2 and out.seq == await store.last_seq(county) == 5
    assert await events_of(store, county, "zhang") == ["MemberRegistered", "MemberTransferred"]
    assert await events_of(store, county, "li") == ["MemberRegistered", "MemberTransferred", "MemberTransferred"]
    li = await store.load(county, Repository.subject(county, Member, "li"))
    assert li[-1].envelope["payload"]["from_branch_id"] == "fisher-branch"


async def test_a_refused_batch_stores_nothing(nc, county):
    store = EventStore(nc)
    repo, other = Repository(store, retries=1), Repository(store)
    refs = [(Member, "zhang"), (Member, "li")]
    await repo.execute_many(county, META, refs, register_missing([]))
    await other.execute(county, Member, "li", META, lambda m: [moved(m, "fisher-branch")])
    before = await store.last_seq(county)
    with pytest.raises(DomainError) as refused:
        await repo.execute_many(county, META, refs, move_all_to("harbour-branch", []))
    assert (refused.value.status, refused.value.code) == (409, "concurrent_modification")
    assert await store.last_seq(county) == before
    assert await events_of(store, county, "zhang") == ["MemberRegistered"]  # zhang's move went with li's


class AckLostOnce(EventStore):
    """The first atomic batch is stored, but its acknowledgement never arrives."""

    lost = False

    async def append_atomic(self, county, items):
        appended = await super().append_atomic(county, items)
        if not self.lost:
            self.lost = True
            raise TimeoutError("nats: timeout")
        return appended


async def test_a_batch_whose_ack_was_lost_is_found_in_the_log_not_appended_again(nc, county):
    store = AckLostOnce(nc)
    repo, calls = Repository(store), []
    out = await repo.execute_many(county, META, [(Member, "zhang"), (Member, "li")], register_missing(calls))
    assert store.lost and len(calls) == 1  # not decided (nor appended) a second time
    assert out.seq == await store.last_seq(county) == 2
    for mid in ("zhang", "li"):
        assert await events_of(store, county, mid) == ["MemberRegistered"]


async def test_a_chunked_decision_decides_again_after_a_conflict_in_a_later_chunk(nc, county):
    store = EventStore(nc)
    repo, other, calls = Repository(store), Repository(store), []
    ids = [f"m{i:04d}" for i in range(ATOMIC_MAX + 200)]
    late = ids[ATOMIC_MAX + 10]
    await repo.get(county, Member, late)  # cached as unregistered ...
    await other.execute(county, Member, late, META, lambda m: [registered(late)])  # ... and then registered
    out = await repo.execute_many(county, META, [(Member, mid) for mid in ids], register_missing(calls), chunked=True)
    assert [len(c) for c in calls] == [len(ids), len(ids) - ATOMIC_MAX - 1]  # the first chunk stood; late skipped
    assert out.result == {"registered": len(ids) - ATOMIC_MAX - 1}
    assert len(out.appended) == len(ids) - 1 and await store.last_seq(county) == len(ids)
    for mid in (ids[0], ids[ATOMIC_MAX - 1], late, ids[-1]):
        assert await events_of(store, county, mid) == ["MemberRegistered"]
