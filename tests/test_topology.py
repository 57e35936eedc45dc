"""docker-compose.yml as an operator reads it, and the same topology started for real: no Docker engine
runs here, so tests/compose_local.py starts each service as a local process with exactly the command and
environment its container gets (three nats-server nodes with routes and JetStream, the provisioner, two
instances each of organizations and ratings, notifications and the gateway, against PostgreSQL)."""
from __future__ import annotations

import asyncio
import base64
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import orjson
import pytest

from services.gateway.files import MAX_IMPORT_BYTES
from services.launcher import SERVICE_NAMES
from shared.auth import Actor
from shared.credentials import COMPONENTS
from shared.natsconf import MAX_PAYLOAD, MAX_PENDING
from shared.natsserver import nats_server_binary
from shared.settings import Settings
from tests.cluster_support import has, headers, operator, roles_of, samples, wait_for
from tests.compose_local import ROOT, LocalCompose, compose, mounts_of
from tests.compose_local import cluster  # noqa: F401 - fixture: docker-compose.yml as local processes
from tests.conftest import new_county

APPS = (*SERVICE_NAMES, "gateway", "provisioner")


def megabytes(size: str) -> int:
    return int(size.removesuffix("MB")) * 1024 * 1024


def test_compose_is_a_cluster_that_can_start():
    doc = compose()
    services = doc["services"]
    assert {"nats-1", "nats-2", "nats-3", "postgres", *APPS} <= set(services)
    server_version = subprocess.run([nats_server_binary(), "--version"], capture_output=True, text=True).stdout
    for i in (1, 2, 3):
        node = services[f"nats-{i}"]
        image_version = node["image"].split(":")[1].split("-")[0]
        assert f"v{image_version}" in server_version  # the server the tests run (atomic batches need >= 2.12)
        assert node["command"] == ["--config", "/etc/nats/nats.conf", "--name", f"nats-{i}"]
        assert "healthz" in " ".join(node["healthcheck"]["test"])
    conf = (ROOT / "deploy" / "nats.conf").read_text()
    assert "sync_interval: always" in conf and "store_dir: /data" in conf and "include nats-auth.conf" in conf
    assert f"max_payload: {MAX_PAYLOAD}" in conf and f"max_pending: {MAX_PENDING}" in conf
    largest_request = len(base64.b64encode(b"x" * MAX_IMPORT_BYTES)) + 64 * 1024  # + token and JSON
    assert megabytes(MAX_PAYLOAD) >= largest_request
    for name in APPS:
        svc = services[name]
        assert svc["command"] == ["start", "--only", name]
        assert svc["healthcheck"]["test"][0] == "CMD"
        waits_for = svc["depends_on"]
        assert all(w["condition"] == "service_healthy" for w in waits_for.values())
        assert {"nats-1", "nats-2", "nats-3"} <= set(waits_for)
        if name != "provisioner":
            assert {"postgres", "provisioner"} <= set(waits_for)
        env = svc["environment"]
        settings = Settings(**{k.removeprefix("DANGJIAN_").lower(): v for k, v in env.items()
                               if k.startswith("DANGJIAN_")})  # parsed as the processes parse it
        assert settings.nats_url == [f"nats://nats-{i}:4222" for i in (1, 2, 3)]
        assert settings.stream_replicas == 3 and settings.metrics_port == 9464
        assert urlsplit(settings.database_url).password is None  # the password is a mounted secret
    assert services["gateway"]["ports"] == ["8000:8000"]
    assert services["gateway"]["environment"]["DANGJIAN_HTTP_HOST"] == "0.0.0.0"
    assert services["ratings"]["deploy"]["replicas"] >= 2 and services["organizations"]["deploy"]["replicas"] >= 2
    assert "PASSWORD:" not in (ROOT / "docker-compose.yml").read_text().replace("PASSWORD_FILE:", "")


def test_compose_mounts_each_container_only_its_own_credential():
    doc = compose()
    mounted = {name: {Path(t).name for _, t in mounts_of(svc, "secrets")} for name, svc in doc["services"].items()}
    for name in (*SERVICE_NAMES, "gateway"):
        assert f"{name}.nk" in mounted[name] and "jwt-verify.pem" in mounted[name]
        assert not {f"{c}.nk" for c in COMPONENTS if c != name} & mounted[name]
        # nothing but the CLI and sign-in (the organizations service, decision 019) mints tokens
        assert ("jwt-signing.pem" in mounted[name]) == (name == "organizations")
    for name in SERVICE_NAMES:  # each writer signs its events with its own key (decision 016)
        assert {f"events-{name}.pem", "event-keys.json"} <= mounted[name]
        assert not {f"events-{c}.pem" for c in SERVICE_NAMES if c != name} & mounted[name]
    assert mounted["provisioner"] == {"operator.nk"}  # the only operator credential
    # endpoint secrets are sealed with one Fernet key every notifications instance mounts, and only they
    assert {name for name, files in mounted.items() if "notifications-secrets.key" in files} == {"notifications"}
    assert all(spec["file"].startswith("./secrets/") for spec in doc["secrets"].values())


def test_generated_cluster_configuration_is_accepted_by_nats_server(tmp_path):
    """`dangjian credentials` writes what the compose file mounts; nats-server -t checks the node's config
    (the committed deploy/nats.conf including the generated nats-auth.conf)."""
    local = LocalCompose(tmp_path, "")
    written = {p.name: p for p in local.generate_secrets().iterdir()}
    assert {spec["file"].removeprefix("./secrets/") for spec in compose()["secrets"].values()} <= set(written)
    for name, path in written.items():
        assert path.stat().st_mode & 0o077 == 0 or name in ("jwt-verify.pem", "event-keys.json"), name
    auth = written["nats-auth.conf"].read_text()
    assert "authorization { user: route, password:" in auth and auth.count('"nkey"') == len(COMPONENTS)
    node = tmp_path / "node"
    node.mkdir()
    (node / "nats.conf").write_text((ROOT / "deploy" / "nats.conf").read_text().replace("/data", str(tmp_path / "d")))
    (node / "nats-auth.conf").write_text(auth)
    checked = subprocess.run([nats_server_binary(), "-t", "-c", str(node / "nats.conf")],
                             capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stdout + checked.stderr


async def two_roles(nc, service: str, code: str) -> dict | None:
    roles = await roles_of(nc, service, code)
    return roles if roles and all(r == ["active", "standby"] for r in roles.values()) else None


async def test_the_compose_topology_starts_and_serves_a_county(cluster):
    code = new_county()
    platform = headers(cluster, Actor(sub="ops", role="platform_admin"))
    admin = headers(cluster, Actor(sub="zhang", role="county_admin", county=code))
    async with httpx.AsyncClient(base_url=cluster.gateway_url(), timeout=30) as http:
        r = await http.post("/api/v1/counties", json={"county_code": code, "name": "银海区"}, headers=platform)
        assert r.status_code == 201, r.text
        r = await http.post(f"/api/v1/counties/{code}/townships", json={"name": "侨港镇", "township_id": "qiaogang"},
                            headers=admin)
        assert r.status_code == 201, r.text
        r = await http.post(f"/api/v1/counties/{code}/organizations", headers=admin, json={
            "name": "侨港村党支部", "organization_type": "branch", "host_unit_type": "village",
            "township_id": "qiaogang", "approved_by": "中共侨港镇委员会", "approved_on": "2019-05-04"})
        assert r.status_code == 201, r.text
        r = await http.post(f"/api/v1/counties/{code}/members", headers=admin, json={
            "name": "张秀玲", "gender": "女", "birth_date": "1978-03-08", "membership_status": "正式党员",
            "joined_on": "2001-07-01", "branch_id": r.json()["organization_id"]})
        member = r.json()["member_id"]
        r = await http.put(f"/api/v1/counties/{code}/star-schemes/2026", headers=admin,
                           json={"name": "2026年北海党员五星", "preset": "beihai-5"})
        assert r.status_code in (200, 201), r.text
        scored = {**admin, "Idempotency-Key": "t-1", "X-Correlation-Id": f"topology-{code}"}
        r = await http.post(f"/api/v1/counties/{code}/members/{member}/scores", headers=scored, json={
            "year": 2026, "category": "lead_by_example", "points": 10, "reason": "抗台风转移群众",
            "evidence_ref": "侨港镇〔2026〕12号", "occurred_on": "2026-07-20"})
        assert r.status_code == 201, r.text
        r = await http.get(f"/api/v1/counties/{code}/members/{member}/rating", params={"year": 2026}, headers=admin)
        assert r.status_code == 200 and r.json()["total_stars"] == 1, r.text

    nc = await operator(cluster)
    try:
        info = await nc.jetstream().stream_info(f"PB_{code}")
        assert info.config.num_replicas == 3
        assert len(info.cluster.replicas) == 2 and all(p.current for p in info.cluster.replicas)
        for service in ("organizations", "ratings"):  # two instances; each (projection, county) runs in one
            roles = await wait_for(lambda: two_roles(nc, service, code), 20) or await roles_of(nc, service, code)
            assert roles and all(r == ["active", "standby"] for r in roles.values()), roles
    finally:
        await nc.close()
    await metrics_and_logs_show_it(cluster, code)
    # the operator's CLI with the three URLs in one variable (nats-py alone refuses a comma-joined string)
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("DANGJIAN_")}, "COLUMNS": "200",
           "DANGJIAN_NATS_URL": ",".join(cluster.nats_urls()),
           "DANGJIAN_CREDENTIALS_DIR": str(cluster.root / "secrets")}
    done = subprocess.run([sys.executable, "-m", "services.cli", "health"], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0 and code in done.stdout, done.stdout + done.stderr


async def metrics_and_logs_show_it(cluster: LocalCompose, code: str) -> None:
    gateway = samples(cluster, "gateway")
    assert has(gateway, "dangjian_http_requests_total", method="POST", route="/api/v1/counties", status="201")
    assert has(gateway, "dangjian_http_request_duration_seconds_count", route="/api/v1/counties/{county}/members")
    ratings = samples(cluster, "ratings")
    assert has(ratings, "dangjian_requests_total", service="ratings", kind="cmd", name="record_score", outcome="ok")
    assert has(ratings, "faststream_received_messages_total", handler="pb.*.cmd.ratings.record_score")
    assert has(ratings, "dangjian_group_commit_batch_events_count", service="ratings")
    for _ in range(40):  # the projection gauges are refreshed every 5 s, each instance on its own clock
        found = samples(cluster, "ratings")
        if has(found, "dangjian_projection_active", county=code) and has(
                found, "dangjian_projection_position", county=code, projection="ratings.stars"):
            break
        await asyncio.sleep(0.5)
    ratings = samples(cluster, "ratings")
    assert has(ratings, "dangjian_projection_position", county=code, projection="ratings.stars")
    assert any(s.name == "dangjian_projection_lag_events" and s.labels["county"] == code for s in ratings)
    # JSON log lines (DANGJIAN_LOG_FORMAT=json in the compose file): the gateway's access log names the
    # route, the status and the client's correlation id
    lines = [orjson.loads(line) for line in cluster.log(cluster.of("gateway")[0]).splitlines() if line.startswith("{")]
    [access] = [x for x in lines if x["message"] == "http.access" and x.get("correlation_id") == f"topology-{code}"]
    assert access["status"] == 201 and access["route"] == "/api/v1/counties/{county}/members/{member_id}/scores"
