"""docker-compose.yml describes the multi-machine topology; no Docker engine runs in CI, so the file
is parsed and checked against what the code expects, and each service is started as its own local
process the way the compose file starts its container."""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import orjson
import yaml

from shared.auth import Actor
from shared.messaging import health_of_every_instance, health_subject
from services.launcher import SERVICE_NAMES
from tests.conftest import new_county

ROOT = Path(__file__).resolve().parents[1]


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_has_a_three_node_cluster_postgres_and_every_service():
    services = compose()["services"]
    assert {"nats-1", "nats-2", "nats-3", "postgres", "gateway", *SERVICE_NAMES} <= set(services)
    for i in (1, 2, 3):
        cmd = services[f"nats-{i}"]["command"]
        assert "-js" in cmd and "--cluster_name" in cmd
        routes = cmd[cmd.index("--routes") + 1]
        assert len(routes.split(",")) == 2 and f"nats-{i}:" not in routes
    for name in (*SERVICE_NAMES, "gateway"):
        svc = services[name]
        assert svc["command"] == ["start", "--only", name]
        env = svc["environment"]
        assert env["DANGJIAN_STREAM_REPLICAS"] == "3"
        assert env["DANGJIAN_DATABASE_URL"].startswith("postgresql+psycopg://")
        assert env["DANGJIAN_NATS_URL"].count("nats://") == 3
    assert services["gateway"]["environment"]["DANGJIAN_HTTP_HOST"] == "0.0.0.0"
    assert services["ratings"]["deploy"]["replicas"] >= 2  # safe: projection leases (next test)


async def test_each_service_runs_as_its_own_process(nats_server, tmp_path):
    """`dangjian start --only <service>` — the container command — answers on the shared NATS."""
    import nats

    env = {**os.environ, "DANGJIAN_NATS_URL": nats_server.url, "DANGJIAN_DATA_DIR": str(tmp_path),
           "DANGJIAN_JWT_SECRET": "topology-test-secret-" + "y" * 30}
    replicas = {name: compose()["services"][name].get("deploy", {}).get("replicas", 1) for name in SERVICE_NAMES}
    procs = [subprocess.Popen([sys.executable, "-m", "services.cli", "start", "--only", name], env=env, cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for name in SERVICE_NAMES for _ in range(replicas[name])]
    nc = await nats.connect(nats_server.url)
    try:
        answered = {}
        for _ in range(100):
            for name in SERVICE_NAMES:
                if name not in answered:
                    try:
                        answered[name] = orjson.loads((await nc.request(health_subject(name), b"", timeout=0.5)).data)
                    except Exception:
                        pass
            if len(answered) == len(SERVICE_NAMES):
                break
            await asyncio.sleep(0.1)
        assert set(answered) == set(SERVICE_NAMES)
        # and the separate processes cooperate: a county added via organizations reaches ratings
        code = new_county()
        body = {"actor": Actor(sub="t", role="platform_admin").model_dump(),
                "data": {"county_code": code, "name": "合浦县"}}
        reply = orjson.loads((await nc.request(f"pb.{code}.cmd.organizations.add_county", orjson.dumps(body),
                                               timeout=10)).data)
        assert reply["ok"], reply
        for _ in range(100):  # ratings (another process) attaches the new county's projection
            health = orjson.loads((await nc.request(health_subject("ratings"), b"", timeout=2)).data)
            if any(p["county"] == code for p in health["projections"]):
                break
            await asyncio.sleep(0.1)
        assert any(p["county"] == code for p in health["projections"])
        # every instance knows the county; exactly one runs its projection (counting the in-process test
        # system's ratings too, when an earlier test started it)
        for _ in range(50):
            views = [p for h in await health_of_every_instance(nc, "ratings") for p in h["projections"] if p["county"] == code]
            if len(views) >= replicas["ratings"]:
                break
            await asyncio.sleep(0.1)
        assert len(views) >= replicas["ratings"] >= 2
        assert [p["role"] for p in views].count("active") == 1
    finally:
        await nc.close()
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(15)
