"""Group commit (shared/groupcommit.py): concurrent single-event appends share atomic batches, and a
batch the server refuses is resolved event by event — each command gets its own answer."""
from __future__ import annotations

import asyncio

import pytest

from shared.aggregate import Aggregate, Repository
from shared.catalog.organizations import TownshipAdded
from shared.envelope import Metadata, seal, subject_for
from shared.eventstore import ConcurrencyConflict, Durability, EventStore
from tests.conftest import new_county

META = Metadata("test:group-commit")


def township(county: str, n: int, prev: str | None = None) -> tuple[str, dict]:
    agg = f"t{n}"
    env = seal(county, agg, TownshipAdded(township_id=agg, name=f"第{n}镇"), META, prev)
    return subject_for(county, "org", "township", agg), env


@pytest.fixture
async def store(nc):
    store = EventStore(nc)
    county = new_county()
    await store.add_county_stream(county)
    return store, county


async def test_concurrent_appends_are_stored_once_each_in_few_batches(store):
    store, county = store
    items = [township(county, n) for n in range(300)]
    appended = await asyncio.gather(*(store.append(county, s, [env], 0) for s, env in items))
    seqs = sorted(a[0].seq for a in appended)
    assert seqs == list(range(1, 301))  # every event once, nothing else
    group = store._groups[county]
    assert group.events == 300 and group.batches < 30  # shared flushes, not one per event
    for (subject, env), (a,) in zip(items, appended):
        [stored] = await store.load(county, subject)
        assert stored.seq == a.seq and stored.envelope["event_id"] == env["event_id"] == a.event_id


async def test_a_conflict_refuses_only_its_own_command(store):
    store, county = store
    (s1, e1), (s2, e2), (s3, e3) = (township(county, n) for n in range(3))
    first = await store.append(county, s2, [e2], 0)
    # s2 now holds an event: appending again "after 0" conflicts; s1 and s3 go in the same batch
    again = township(county, 2, prev=e2["hash"])[1]
    results = await asyncio.gather(store.append(county, s1, [e1], 0), store.append(county, s2, [again], 0),
                                   store.append(county, s3, [e3], 0), return_exceptions=True)
    assert isinstance(results[1], ConcurrencyConflict)
    assert [len(await store.load(county, s)) for s in (s1, s2, s3)] == [1, 1, 1]
    assert (await store.load(county, s2))[0].seq == first[0].seq
    assert not isinstance(results[0], BaseException) and not isinstance(results[2], BaseException)


async def test_a_republished_event_in_a_batch_is_stored_once(store):
    store, county = store
    (s1, e1), (s2, e2) = township(county, 1), township(county, 2)
    await store.append(county, s1, [e1], 0)
    # a retry after a lost ack re-sends the same event id: the server drops it, the others land
    results = await asyncio.gather(store.append(county, s1, [e1], 0), store.append(county, s2, [e2], 0),
                                   return_exceptions=True)
    assert await store.last_seq(county) == 2
    assert len(await store.load(county, s1)) == 1 and len(await store.load(county, s2)) == 1
    assert not isinstance(results[1], BaseException)


async def test_without_group_commit_each_append_is_its_own_publish(nc):
    store = EventStore(nc, Durability(group_commit=False))
    county = new_county()
    await store.add_county_stream(county)
    items = [township(county, n) for n in range(20)]
    await asyncio.gather(*(store.append(county, s, [env], 0) for s, env in items))
    assert await store.last_seq(county) == 20 and county not in store._groups


class Township(Aggregate):
    """A minimal aggregate on the township subject, enough to watch caches."""
    context, aggregate_type = "org", "township"

    def __init__(self, aggregate_id: str):
        super().__init__(aggregate_id)
        self.names: list[str] = []

    def apply(self, event) -> None:
        self.names.append(event.name)

    def rename(self, name: str) -> list:
        return [TownshipAdded(township_id=self.id, name=name)]


async def test_an_append_by_another_instance_drops_the_cached_aggregate(nc):
    county = new_county()
    await EventStore(nc).add_county_stream(county)
    mine, theirs = Repository(EventStore(nc)), Repository(EventStore(nc))
    for repo in (mine, theirs):
        await nc.subscribe(f"pb.{county}.evt.org.>", cb=repo.on_stored)
    subject = Repository.subject(county, Township, "t1")
    await mine.execute(county, Township, "t1", META, lambda t: t.rename("侨港镇"))
    assert (await theirs.get(county, Township, "t1")).state.names == ["侨港镇"]  # cached there too

    await mine.execute(county, Township, "t1", META, lambda t: t.rename("侨港镇（新）"))
    await nc.flush()
    for _ in range(50):
        if subject not in theirs._cache:
            break
        await asyncio.sleep(0.02)
    assert subject not in theirs._cache  # theirs would have decided on stale state
    assert subject in mine._cache        # our own append never drops our own state
    assert (await theirs.get(county, Township, "t1")).state.names == ["侨港镇", "侨港镇（新）"]
