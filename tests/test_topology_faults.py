"""Faults on the compose topology (tests/compose_local.py: three NATS nodes with R3 streams, two instances
of organizations and ratings, PostgreSQL behind a proxy the test controls). Each fault is bounded in
time and restored afterwards, so the next test starts from a whole cluster."""
from __future__ import annotations

import asyncio
import os

import httpx
import pytest

from services.ratings.projections.stars import StarsProjection
from shared.auth import Actor
from tests.cluster_support import (headers, operator, projections_of, read_model, rebuild, score_until_acked,
                                   stored_scores, wait_for)
from tests.compose_local import cluster  # noqa: F401 - fixture: docker-compose.yml as local processes
from tests.conftest import POSTGRES_URL, new_county

MEMBERS = 12


async def found_county(http: httpx.AsyncClient, cluster, code: str) -> tuple[dict, list[str]]:
    """A county with a branch, members and a member scheme, through the gateway."""
    admin = headers(cluster, Actor(sub="zhang", role="county_admin", county=code))
    r = await http.post("/api/v1/counties", json={"county_code": code, "name": "银海区"},
                        headers=headers(cluster, Actor(sub="ops", role="platform_admin")))
    assert r.status_code == 201, r.text
    r = await http.post(f"/api/v1/counties/{code}/townships", json={"name": "侨港镇", "township_id": "qiaogang"},
                        headers=admin)
    r = await http.post(f"/api/v1/counties/{code}/organizations", headers=admin, json={
        "name": "侨港村党支部", "organization_type": "branch", "host_unit_type": "village", "township_id": "qiaogang",
        "approved_by": "中共侨港镇委员会", "approved_on": "2019-05-04"})
    branch, members = r.json()["organization_id"], []
    for i in range(MEMBERS):
        r = await http.post(f"/api/v1/counties/{code}/members", headers=admin, json={
            "name": f"党员{i}", "gender": "女", "birth_date": "1978-03-08", "membership_status": "正式党员",
            "joined_on": "2001-07-01", "branch_id": branch})
        assert r.status_code == 201, r.text
        members.append(r.json()["member_id"])
    r = await http.put(f"/api/v1/counties/{code}/star-schemes/2026", headers=admin,
                       json={"name": "2026年北海党员五星", "preset": "beihai-5"})
    assert r.status_code in (200, 201), r.text
    return admin, members


@pytest.fixture(scope="module")
async def county(cluster):
    code = new_county()
    async with httpx.AsyncClient(base_url=cluster.gateway_url(), timeout=15) as http:
        admin, members = await found_county(http, cluster, code)
    return code, admin, members


async def scores(cluster, code: str, admin: dict, members: list[str], keys: list[str], workers: int = 8,
                 acked: list | None = None) -> list[str]:
    acked = [] if acked is None else acked
    todo = iter(keys)
    async with httpx.AsyncClient(base_url=cluster.gateway_url(), timeout=15) as http:
        async def worker() -> None:
            for key in todo:
                await score_until_acked(http, code, members[hash(key) % len(members)], key, admin)
                acked.append(key)
        await asyncio.gather(*(worker() for _ in range(workers)))
    return acked


async def caught_up(nc, code: str, timeout: float = 40.0) -> list[dict]:
    async def probe():
        views = [p for p in await projections_of(nc, "ratings", code) if p["role"] == "active"]
        return views if views and all(p.get("lag") == 0 and not p.get("retrying") for p in views) else None
    views = await wait_for(probe, timeout)
    assert views, await projections_of(nc, "ratings", code)
    return views


async def equals_a_rebuild(nc, cluster, code: str) -> None:
    """The live read-model's rows are exactly those a rebuild from the log makes."""
    await caught_up(nc, code)
    live = read_model(POSTGRES_URL, [StarsProjection], code)
    for _ in range(20):  # health's lag counts delivered events: the last batch may still be committing
        await asyncio.sleep(0.5)
        settled = read_model(POSTGRES_URL, [StarsProjection], code)
        if settled == live:  # checkpoints included: nothing committed for half a second
            break
        live = settled
    await rebuild(nc, cluster, code, "ratings", StarsProjection.name)
    rebuilt = read_model(POSTGRES_URL, [StarsProjection], code)
    assert {k: v for k, v in live.items() if k != "checkpoints"} == {k: v for k, v in rebuilt.items() if k != "checkpoints"}
    assert len(live["ratings_score"]) == len(await stored_scores(nc, code))


async def test_killing_the_stream_leader_during_commands_loses_no_acknowledged_command(cluster, county):
    code, admin, members = county
    nc = await operator(cluster)
    leader = (await nc.jetstream().stream_info(f"PB_{code}")).cluster.leader
    [node] = cluster.of(leader)
    keys, acked, killed_after = [f"leader-{i}" for i in range(160)], [], []

    async def kill_when_busy() -> None:
        while len(acked) < 30:
            await asyncio.sleep(0.02)
        cluster.kill(node)  # kill -9 of the node leading the county's stream
        killed_after.append(len(acked))

    try:
        await asyncio.gather(scores(cluster, code, admin, members, keys, acked=acked), kill_when_busy())
        assert killed_after and len(acked) - killed_after[0] >= 100  # writes went on after the kill
        stored = await stored_scores(nc, code)
        assert sorted(stored) == sorted(keys)  # every acknowledged score stored, none twice
        assert (await nc.jetstream().stream_info(f"PB_{code}")).cluster.leader != leader
    finally:
        cluster.launch(node)  # the node comes back with its store and catches up
        cluster.wait_healthy([node.service], 60)
        await nc.close()


async def test_kill_9_of_a_service_instance_hands_its_projections_over_within_10_s(cluster, county):
    code, admin, members = county
    nc = await operator(cluster)
    victim = None
    try:
        # usually one instance owns them all; under load a lease can lapse and the other take some: kill one owner
        owner = min(p["pid"] for p in await projections_of(nc, "ratings", code) if p["role"] == "active")
        victim = cluster.by_pid(owner)
        cluster.kill(victim)
        killed = asyncio.get_running_loop().time()

        async def taken_over():
            views = await projections_of(nc, "ratings", code)
            return views if views and all(p["role"] == "active" and p["pid"] != owner for p in views) else None
        assert await wait_for(taken_over, 15, every=0.2)
        assert asyncio.get_running_loop().time() - killed < 10
        await scores(cluster, code, admin, members, [f"after-kill-{i}" for i in range(30)])
        await equals_a_rebuild(nc, cluster, code)
    finally:
        if victim is not None:
            cluster.launch(victim)
        await nc.close()


async def test_postgres_cut_for_10_s_pauses_projections_which_then_catch_up(cluster, county):
    code, admin, members = county
    nc = await operator(cluster)
    try:
        await caught_up(nc, code)
        cluster.proxy.cut()
        cut = asyncio.get_running_loop().time()
        writes = asyncio.create_task(scores(cluster, code, admin, members, [f"cut-{i}" for i in range(40)]))

        async def paused():
            views = [p for p in await projections_of(nc, "ratings", code) if p["role"] == "active"]
            return views if any(p.get("retrying") or p.get("lag") for p in views) else None
        assert await wait_for(paused, 9)  # events arrive, the read-model cannot take them
        await asyncio.sleep(max(0.0, 10 - (asyncio.get_running_loop().time() - cut)))
        cluster.proxy.restore()
        await writes
        await equals_a_rebuild(nc, cluster, code)
    finally:
        cluster.proxy.restore()  # (no-op when it already was)
        await nc.close()


async def test_a_poison_event_stops_one_projection_of_one_county_only(cluster, county):
    code, admin, members = county
    nc = await operator(cluster)
    try:
        ack = await nc.jetstream().publish(f"pb.{code}.evt.ratings.points.2026.member.{members[0]}",
                                           b"{not an envelope" + os.urandom(4).hex().encode(), stream=f"PB_{code}")

        async def stopped():
            views = [p for p in await projections_of(nc, "ratings", code) if p.get("error")]
            return views or None
        [stopped_view] = await wait_for(stopped, 20)
        assert stopped_view["error"]["seq"] == ack.seq and stopped_view["projection"] == StarsProjection.name
        other = new_county()  # another county's ratings go on
        async with httpx.AsyncClient(base_url=cluster.gateway_url(), timeout=15) as http:
            other_admin, other_members = await found_county(http, cluster, other)
            await score_until_acked(http, other, other_members[0], "other-1", other_admin)
            r = await http.get(f"/api/v1/counties/{other}/members/{other_members[0]}/rating", params={"year": 2026},
                               headers=other_admin)
            assert r.status_code == 200 and len(r.json()["scores"]) == 1, r.text
            # and the same county's registry goes on (read by another user: a read after one's own write also
            # waits for the archive copy of every event, which the poison event stops too)
            r = await http.post(f"/api/v1/counties/{code}/townships", json={"name": "银滩镇", "township_id": "yintan"},
                                headers=admin)
            assert r.status_code == 201, r.text
            reader = headers(cluster, Actor(sub="li", role="county_admin", county=code))

            async def registered():
                r = await http.get(f"/api/v1/counties/{code}/townships", headers=reader)
                return r.status_code == 200 and "yintan" in r.text
            assert await wait_for(registered, 20)
            org = {p["projection"]: p for p in await projections_of(nc, "organizations", code) if p["role"] == "active"}
            assert "error" not in org["organizations.registry"], org
    finally:
        await nc.close()
