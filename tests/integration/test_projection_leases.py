"""One instance at a time runs each (projection, county): leases in a JetStream KV bucket, standby
instances answer read-your-writes from the owner's checkpoint and take over when it stops or dies."""
from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import Column, String, func, select

from shared.catalog.organizations import TownshipAdded
from shared.envelope import Metadata, seal, subject_for
from shared.eventstore import EventStore
from shared.leases import Leases
from shared.projection import Projection
from shared.service import Routes, Service
from shared.signing import Signer
from tests.conftest import new_county

META = Metadata("test:leases")


class TownshipCount(Projection):
    """A projection no session service runs, so the two instances below compete for it alone."""
    name = "test.townships"
    subjects = ("org.township.>",)
    handles = frozenset({"TownshipAdded"})

    def define_tables(self) -> None:
        self.rows = self.table("test_lease_township", Column("county", String(6), primary_key=True),
                               Column("township_id", String(64), primary_key=True))

    def apply(self, conn, county: str, events: Sequence) -> None:
        # a plain insert: applying an event twice would fail on the primary key
        conn.execute(self.rows.insert(), [{"county": county, "township_id": ev.event.township_id} for ev in events])


async def add_townships(store: EventStore, county: str, start: int, n: int, credentials: Path) -> int:
    seq, signer = 0, Signer.load(credentials, "organizations")  # as organizations writes them: signed
    for i in range(start, start + n):
        env = seal(county, f"t{i}", TownshipAdded(township_id=f"t{i}", name=f"第{i}镇"), META, None, signer=signer)
        seq = (await store.append(county, subject_for(county, "org", "township", f"t{i}"), [env], 0))[0].seq
    return seq


def count(svc: Service, county: str) -> int:
    rows = svc.projection(TownshipCount).rows
    with svc.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(rows).where(rows.c.county == county)).scalar_one()


async def test_standby_answers_reads_and_takes_over_when_the_owner_stops(settings, nats_server, nc):
    county = new_county()
    store = EventStore(nc)
    await store.add_county_stream(county)
    # an ad-hoc service; it attaches every county of the session: a TTL much shorter lets leases lapse on a
    # loaded machine between two renewal rounds
    fast = settings.model_copy(update={"lease_ttl_s": 4.0, "nats_user": "operator"})
    first, second = (Service(Routes("leasetest"), projections=[TownshipCount]) for _ in range(2))
    try:  # started inside: a start that fails half-way is still stopped
        await first.start(nats_server.url, fast)
        await second.start(nats_server.url, fast)
        key = ("test.townships", county)
        assert key in first.runners and key in second.standby and key not in second.runners

        seq = await add_townships(store, county, 0, 5, settings.credentials_path)
        await second.caught_up(county, seq)  # read-your-writes on the standby: the owner's checkpoint
        assert count(second, county) == 5
        [standby] = [p for p in (await second.health())["projections"] if p["county"] == county]
        assert standby["role"] == "standby" and standby["lag"] == 0 and standby["checkpoint"] == seq

        await first.stop()  # releases its leases: the standby takes over at its next round
        for _ in range(300):
            if key in second.runners:
                break
            await asyncio.sleep(0.05)
        assert key in second.runners
        seq = await add_townships(store, county, 5, 3, settings.credentials_path)
        await second.caught_up(county, seq)
        assert count(second, county) == 8  # nothing lost, nothing applied twice
    finally:
        await first.stop()
        await second.stop()


async def test_a_lease_nobody_renews_expires_and_another_instance_takes_it(nc):
    bucket = f"test_leases_{new_county()}"
    # a TTL of a few seconds: under load, a 1 s lease taken by "two" could expire again before it is read back
    one, two = (Leases(nc.jetstream(), holder, ttl_s=3.0, bucket=bucket) for holder in ("one", "two"))
    await one.open()
    await two.open()
    try:
        assert await one.hold("ratings.stars.450503")
        assert await one.hold("ratings.stars.450503")  # renewal
        assert not await two.hold("ratings.stars.450503")
        assert await two.holder_of("ratings.stars.450503") == "one"
        taken = False
        for _ in range(150):  # "one" died: no renewal; the bucket's TTL frees the lease
            await asyncio.sleep(0.1)
            if taken := await two.hold("ratings.stars.450503"):
                break
        assert taken
        assert await two.holder_of("ratings.stars.450503") == "two"
        assert not await one.hold("ratings.stars.450503")  # the old owner finds out at its next renewal
    finally:
        await nc.jetstream().delete_key_value(bucket)


async def test_an_instance_without_the_projection_follows_member_transfers(system, caller, settings, nats_server):
    """A commands-only ratings instance caches placements too; a transfer must reach its cache."""
    from services.ratings.app import create_service
    from services.ratings.directory import placement
    from services.ratings.projections.stars import StarsProjection
    from shared.auth import Actor
    from shared.service import Context
    from tests.integration.scenario import expect_ok, make_county

    c = await make_county(caller, branches=2, members_per_branch=1)
    extra = create_service()
    try:
        await extra.start(nats_server.url, settings.model_copy(update={"run_projections": False}))
        assert not extra.runners and ("ratings.stars", c.code) in extra.standby
        ctx = Context(c.code, Actor(sub="t", role="county_admin", county=c.code), {}, None, None, extra)
        stars = extra.projection(StarsProjection)
        await extra.caught_up(c.code, c.seq)
        assert (await placement(ctx, stars, "member", c.members[0]))[0] == c.branches[0]  # now cached
        expect_ok(await caller.cmd(c.code, "organizations", "transfer_member", {
            "member_id": c.members[0], "to_branch_id": c.branches[1], "transferred_on": "2026-05-01"}))
        for _ in range(100):
            if (await placement(ctx, stars, "member", c.members[0]))[0] == c.branches[1]:
                break
            await asyncio.sleep(0.05)
        assert (await placement(ctx, stars, "member", c.members[0]))[0] == c.branches[1]
    finally:
        await extra.stop()


async def test_a_rebuild_sent_to_a_standby_is_done_by_the_owner(settings, nats_server, nc):
    county = new_county()
    store = EventStore(nc)
    await store.add_county_stream(county)
    owner, standby = (Service(Routes("leasetest"), projections=[TownshipCount]) for _ in range(2))
    adhoc = settings.model_copy(update={"nats_user": "operator"})  # no credential of its own
    try:
        await owner.start(nats_server.url, adhoc)
        await standby.start(nats_server.url, adhoc)
        seq = await add_townships(store, county, 0, 4, settings.credentials_path)
        await standby.caught_up(county, seq)
        result = await standby.rebuild(county, TownshipCount)  # forwarded: only the owner may swap
        assert result["events"] == seq and count(owner, county) == 4
        seq = await add_townships(store, county, 4, 1, settings.credentials_path)  # the owner's live runner goes on after the swap
        await standby.caught_up(county, seq)
        assert count(standby, county) == 5
    finally:
        await standby.stop()
        await owner.stop()
