"""The unit of work's batches (Repository.execute_many), without a log: how a decision over several
aggregates is sealed — hash chains continued, the expected sequence on each aggregate's first
event, chunks of whole aggregates — and what it refuses."""
from __future__ import annotations

from datetime import date

import pytest

from shared.aggregate import Decision, Loaded, Repository
from shared.catalog.organizations import MemberRegistered, MemberTransferred
from shared.envelope import GENESIS, Metadata
from shared.eventstore import ATOMIC_MAX
from services.organizations.registry.domain import Member

COUNTY = "450503"
META = Metadata("county_admin:zhang")


def registered(member_id: str, branch: str = "haixian-branch") -> MemberRegistered:
    return MemberRegistered(member_id=member_id, name="张秀玲", gender="female", birth_date=date(1980, 5, 1),
                            membership_status="full", joined_on=date(2010, 7, 1), branch_id=branch)


def moved(member_id: str, to: str, on: date = date(2024, 3, 15)) -> MemberTransferred:
    return MemberTransferred(member_id=member_id, from_branch_id="haixian-branch", to_branch_id=to, transferred_on=on)


def loaded(member_id: str, version: int = 0, last_hash: str | None = None) -> Loaded:
    return Loaded(Member(member_id), version, last_hash)


def batches(decision: Decision, states: dict[str, Loaded], chunked: bool = False) -> list[list[tuple]]:
    refs = {(Member, mid): lo for mid, lo in states.items()}
    subjects = {ref: Repository.subject(COUNTY, *ref) for ref in refs}
    return Repository._batches(COUNTY, META, decision, refs, subjects, chunked)


def test_each_aggregate_continues_its_own_chain_and_only_its_first_event_carries_the_expected_sequence():
    states = {"zhang": loaded("zhang", version=41, last_hash="h41"), "li": loaded("li")}
    decision = Decision().add(states["zhang"].state, [moved("zhang", "fisher-branch"),
                                                      moved("zhang", "haixian-branch", date(2024, 4, 1))])
    decision.add(states["li"].state, [registered("li")])
    decision.add(states["li"].state, [])  # no events: nothing added
    [batch] = batches(decision, states)
    assert [(subject.rsplit(".", 1)[1], expected) for subject, _, expected, _, _ in batch] == [
        ("zhang", 41), ("zhang", None), ("li", 0)]
    zhang1, zhang2, li = (env for _, env, _, _, _ in batch)
    assert zhang1["prev_hash"] == "h41" and zhang2["prev_hash"] == zhang1["hash"] and li["prev_hash"] == GENESIS
    assert {env["actor"] for env in (zhang1, zhang2, li)} == {"county_admin:zhang"}


def test_a_decision_larger_than_one_atomic_batch_is_chunked_by_whole_aggregates_or_refused():
    ids = [f"m{i}" for i in range(ATOMIC_MAX + 1)]
    states = {mid: loaded(mid) for mid in ids}
    decision = Decision()
    for mid in ids:
        decision.add(states[mid].state, [registered(mid)])
    with pytest.raises(ValueError, match="not one atomic batch"):
        batches(decision, states)
    chunks = batches(decision, states, chunked=True)
    assert [len(c) for c in chunks] == [ATOMIC_MAX, 1]
    # an aggregate's events never straddle two batches: its later events carry no expected sequence
    two = {"a": loaded("a"), "b": loaded("b", version=7)}
    decision = Decision().add(two["a"].state, [registered("a")] * (ATOMIC_MAX - 1))
    decision.add(two["b"].state, [moved("b", "x"), moved("b", "y")])
    chunks = batches(decision, two, chunked=True)
    assert [len(c) for c in chunks] == [ATOMIC_MAX - 1, 2] and chunks[1][0][2] == 7


def test_a_decision_on_an_aggregate_that_was_not_loaded_is_a_bug():
    states = {"zhang": loaded("zhang")}
    with pytest.raises(ValueError, match="not loaded"):
        batches(Decision().add(Member("stranger"), [registered("stranger")]), states)
