"""What the topology and fault tests share: tokens and connections of the operator, commands an honest
client retries with the same idempotency key, what the log holds, the instances' roles and metrics,
and a read-model compared with its rebuild."""
from __future__ import annotations

import asyncio
import urllib.request
from typing import Any

import httpx
import nats
import orjson
from nats.js.api import DeliverPolicy
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, select

from shared.auth import Actor, issue_token
from shared.messaging import health_of_every_instance
from tests.compose_local import LocalCompose


def token(cluster: LocalCompose, actor: Actor) -> str:
    return issue_token((cluster.root / "secrets" / "jwt-signing.pem").read_text(), actor)  # the operator's CLI key


def headers(cluster: LocalCompose, actor: Actor) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(cluster, actor)}"}


async def operator(cluster: LocalCompose):
    seed = (cluster.root / "secrets" / "operator.nk").read_text().strip()
    return await nats.connect(cluster.nats_urls(), nkeys_seed_str=seed, max_reconnect_attempts=-1,
                              reconnect_time_wait=0.5)


def score(year: int = 2026, points: int = 1) -> dict[str, Any]:
    return {"year": year, "category": "lead_by_example", "points": points, "reason": "带头参与防汛抢险",
            "evidence_ref": "侨港镇〔2026〕12号", "occurred_on": "2026-07-20"}


async def score_until_acked(http: httpx.AsyncClient, code: str, member: str, key: str, auth: dict,
                            deadline_s: float = 60.0) -> dict:
    """Records a score as a careful client does: a 503/504 or a lost connection is retried with the same
    idempotency key (the gateway says so), anything else must be an answer."""
    loop = asyncio.get_running_loop()
    until = loop.time() + deadline_s
    while True:
        try:
            r = await http.post(f"/api/v1/counties/{code}/members/{member}/scores", json=score(),
                                headers={**auth, "Idempotency-Key": key})
            if r.status_code in (200, 201):
                return r.json()
            assert r.status_code in (502, 503, 504), r.text  # never a 500 or a refusal
        except httpx.TransportError:
            pass
        assert loop.time() < until, f"{key} not acknowledged within {deadline_s}s"
        await asyncio.sleep(0.3)


async def stored_scores(nc, code: str) -> list[str]:
    """The idempotency keys of every MemberScored event in the county's stream, in order."""
    js = nc.jetstream()
    last = (await js.stream_info(f"PB_{code}")).state.last_seq
    keys: list[str] = []
    done = asyncio.Event()

    async def collect(msg) -> None:
        try:
            env = orjson.loads(msg.data)
        except orjson.JSONDecodeError:
            env = {}
        if env.get("type") == "MemberScored":
            keys.append(env["payload"]["idempotency_key"])
        if msg.metadata.sequence.stream >= last:
            done.set()

    sub = await js.subscribe(f"pb.{code}.evt.>", cb=collect, ordered_consumer=True, deliver_policy=DeliverPolicy.ALL)
    try:
        await asyncio.wait_for(done.wait(), 30)
    finally:
        await sub.unsubscribe()
    return keys


async def projections_of(nc, service: str, county: str) -> list[dict]:
    """Every instance's view of the county's projections, each with the instance's pid."""
    views = []
    for health in await health_of_every_instance(nc, service, wait_s=1.0):
        pid = int(health["instance"].split("-")[-2])
        views += [{**p, "pid": pid} for p in health["projections"] if p["county"] == county]
    return views


async def roles_of(nc, service: str, county: str) -> dict[str, list[str]]:
    """projection → sorted roles of every instance, for one county."""
    roles: dict[str, list[str]] = {}
    for p in await projections_of(nc, service, county):
        roles.setdefault(p["projection"], []).append(p["role"])
    return {k: sorted(v) for k, v in roles.items()}


async def wait_for(probe, timeout: float, every: float = 0.3):
    """Polls `probe` (async, returns a value or None) until it answers; the last answer or None."""
    loop = asyncio.get_running_loop()
    until = loop.time() + timeout
    while True:
        found = await probe()
        if found or loop.time() > until:
            return found
        await asyncio.sleep(every)


def samples(cluster: LocalCompose, service: str) -> list:
    """Every metric sample of every instance of a service, from its status port (what Prometheus scrapes)."""
    found = []
    for inst in cluster.of(service):
        with urllib.request.urlopen(cluster.status_url(inst) + "/metrics", timeout=5) as r:
            found += [s for family in text_string_to_metric_families(r.read().decode()) for s in family.samples]
    return found


def has(found: list, metric: str, **labels) -> bool:
    return any(s.name == metric and labels.items() <= s.labels.items() and s.value > 0 for s in found)


def read_model(database_url: str, projection_types, county: str) -> dict[str, list[tuple]]:
    """The county's rows of every table of the projections (sorted), read directly from PostgreSQL."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            out = {}
            for ptype in projection_types:
                for name, table in ptype().metadata.tables.items():
                    rows = conn.execute(select(table).where(table.c.county == county)).all()
                    out[name] = sorted(tuple(map(repr, row)) for row in rows)
            out["checkpoints"] = sorted(conn.exec_driver_sql(
                "SELECT projection, seq FROM projection_checkpoint WHERE county = %(c)s", {"c": county}).all())
            return out
    finally:
        engine.dispose()


async def rebuild(nc, cluster: LocalCompose, code: str, service: str, projection: str) -> dict:
    body = {"token": token(cluster, Actor(sub="ops", role="county_admin", county=code)),
            "data": {"projection": projection}}
    reply = orjson.loads((await nc.request(f"pb.{code}.cmd.{service}.rebuild", orjson.dumps(body), timeout=60)).data)
    assert reply["ok"], reply
    return reply["data"]
