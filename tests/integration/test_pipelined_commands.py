"""Pipelined commands (shared/aggregate.py `execute`, shared/groupcommit.py `after`): commands on one
aggregate are decided on its state including events still pending in the group commit, and a refused
pending event makes the commands decided on it decide again on fresh state. Real nats-server."""
from __future__ import annotations

import asyncio

import pytest

from shared.aggregate import Aggregate, Repository
from shared.catalog.organizations import TownshipAdded
from shared.canonical import GENESIS
from shared.envelope import Metadata
from shared.eventstore import EventStore
from tests.conftest import new_county

META = Metadata("test:pipelined")


class Township(Aggregate):
    context, aggregate_type = "org", "township"

    def __init__(self, aggregate_id: str):
        super().__init__(aggregate_id)
        self.names: list[str] = []

    def apply(self, event) -> None:
        self.names.append(event.name)

    def rename(self, name: str) -> list:
        """Idempotent by name: a name it already had is not recorded again."""
        return [] if name in self.names else [TownshipAdded(township_id=self.id, name=name)]


@pytest.fixture
async def county(nc):
    county = new_county()
    await EventStore(nc).add_county_stream(county)
    return county


async def stored_names(store: EventStore, county: str, agg: str) -> list[str]:
    events = await store.load(county, Repository.subject(county, Township, agg))
    prev = GENESIS
    for e in events:  # the hash chain holds across events decided on pending state
        assert e.envelope["prev_hash"] == prev
        prev = e.envelope["hash"]
    return [e.event.name for e in events]


async def test_commands_on_one_aggregate_are_decided_on_pending_state_and_share_batches(nc, county):
    store = EventStore(nc)
    repo = Repository(store)
    names = [f"镇{n}" for n in range(60)]
    outcomes = await asyncio.gather(*(repo.execute(county, Township, "t1", META, lambda t, n=n: t.rename(n),
                                                   result=lambda t, ev: {"names": len(t.names)})
                                      for n in names))
    assert await stored_names(store, county, "t1") == names  # each once, in arrival order
    assert [o.result["names"] for o in outcomes] == list(range(1, 61))  # each saw the ones before it
    assert [o.seq for o in outcomes] == list(range(1, 61))
    group = store._groups[county]
    assert group.events == 60 and group.batches < 20  # not one fsync per command: decided while pending


async def test_a_replayed_command_answers_only_once_the_pending_event_is_stored(nc, county):
    store = EventStore(nc)
    repo = Repository(store)
    first = asyncio.ensure_future(repo.execute(county, Township, "t1", META, lambda t: t.rename("侨港镇")))
    await asyncio.sleep(0)  # decided and pending
    again = await repo.execute(county, Township, "t1", META, lambda t: t.rename("侨港镇"))
    assert again.appended == []  # nothing new: the key was the pending event's
    assert first.done() and await stored_names(store, county, "t1") == ["侨港镇"]
    assert (await first).seq == 1


async def test_a_refused_pending_event_makes_the_commands_behind_it_decide_again(nc, county):
    mine, theirs = Repository(EventStore(nc)), Repository(EventStore(nc))
    store = mine.store
    await mine.execute(county, Township, "t1", META, lambda t: t.rename("甲"))  # cached in mine
    await theirs.execute(county, Township, "t1", META, lambda t: t.rename("乙"))  # mine's cache is now stale
    # mine decides three commands on its stale cache, each on the one before it: the first is refused by
    # the server (expected sequence), the two behind it were decided on a state that never was
    outcomes = await asyncio.gather(*(mine.execute(county, Township, "t1", META, lambda t, n=n: t.rename(n))
                                      for n in ("丙", "丁", "乙")))
    assert await stored_names(store, county, "t1") == ["甲", "乙", "丙", "丁"]  # 乙 not twice
    assert [len(o.appended) for o in outcomes] == [1, 1, 0]
    assert (await mine.get(county, Township, "t1")).state.names == ["甲", "乙", "丙", "丁"]


async def test_several_events_wait_for_the_pending_ones(nc, county):
    store = EventStore(nc)
    repo = Repository(store)
    single = asyncio.ensure_future(repo.execute(county, Township, "t1", META, lambda t: t.rename("一")))
    await asyncio.sleep(0)
    both = await repo.execute(county, Township, "t1", META, lambda t: t.rename("二") + t.rename("三"))
    assert single.done() and [a.seq for a in both.appended] == [2, 3]
    assert await stored_names(store, county, "t1") == ["一", "二", "三"]
