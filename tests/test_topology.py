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
from shared.credentials import COMPONENTS
from shared.messaging import health_of_every_instance, health_subject
from services.launcher import SERVICE_NAMES
from tests.conftest import new_county, token_for

ROOT = Path(__file__).resolve().parents[1]


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_has_a_three_node_cluster_postgres_and_every_service():
    services = compose()["services"]
    assert {"nats-1", "nats-2", "nats-3", "postgres", "gateway", "provisioner", *SERVICE_NAMES} <= set(services)
    for i in (1, 2, 3):
        cmd = services[f"nats-{i}"]["command"]
        assert "-js" in cmd and cmd[cmd.index("-c") + 1] == "/run/secrets/nats-server.conf"  # cluster + auth
        assert cmd[cmd.index("--name") + 1] == f"nats-{i}"
    for name in (*SERVICE_NAMES, "gateway", "provisioner"):
        svc = services[name]
        assert svc["command"] == ["start", "--only", name]
        env = svc["environment"]
        assert env["DANGJIAN_STREAM_REPLICAS"] == "3"
        assert env["DANGJIAN_DATABASE_URL"].startswith("postgresql+psycopg://")
        assert ":" not in env["DANGJIAN_DATABASE_URL"].split("//")[1].split("@")[0]  # no password in the file
        assert env["DANGJIAN_NATS_URL"].count("nats://") == 3
    assert services["gateway"]["environment"]["DANGJIAN_HTTP_HOST"] == "0.0.0.0"
    assert services["ratings"]["deploy"]["replicas"] >= 2  # safe: projection leases (next test)


def test_compose_mounts_each_container_only_its_own_credential():
    doc = compose()
    services = doc["services"]
    mounted = {name: {(m["target"] if isinstance(m, dict) else m) for m in svc.get("secrets", [])}
               for name, svc in services.items()}
    for name in (*SERVICE_NAMES, "gateway"):
        assert f"{name}.nk" in mounted[name] and "jwt-verify.pem" in mounted[name]
        assert not {f"{c}.nk" for c in COMPONENTS if c != name} & mounted[name]
        # nothing but the CLI and sign-in (the organizations service, decision 019) mints tokens
        assert ("jwt-signing.pem" in mounted[name]) == (name == "organizations")
    for name in SERVICE_NAMES:  # each writer signs its events with its own key (decision 016)
        assert {f"events-{name}.pem", "event-keys.json"} <= mounted[name]
        assert not {f"events-{c}.pem" for c in SERVICE_NAMES if c != name} & mounted[name]
    assert mounted["provisioner"] == {"operator.nk"}  # the only operator credential
    assert all(spec["file"].startswith("./secrets/") for spec in doc["secrets"].values())
    assert "PASSWORD:" not in (ROOT / "docker-compose.yml").read_text().replace("PASSWORD_FILE:", "")


def test_generated_cluster_configuration_is_accepted_by_nats_server(tmp_path):
    """`dangjian credentials` writes what the compose file mounts; nats-server -t checks the config."""
    from typer.testing import CliRunner

    from services.cli import app
    from shared.natsserver import nats_server_binary

    result = CliRunner().invoke(app, ["credentials", str(tmp_path / "secrets")])
    assert result.exit_code == 0, result.output
    written = {p.name: p for p in (tmp_path / "secrets").iterdir()}
    doc = compose()
    assert {spec["file"].removeprefix("./secrets/") for spec in doc["secrets"].values()} <= set(written)
    for name, path in written.items():
        assert path.stat().st_mode & 0o077 == 0 or name in ("jwt-verify.pem", "event-keys.json"), name
    conf = written["nats-server.conf"].read_text()
    assert "authorization { user: route, password:" in conf and conf.count('"nkey"') == len(COMPONENTS)
    checked = subprocess.run([nats_server_binary(), "-t", "-c", str(written["nats-server.conf"])],
                             capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stdout + checked.stderr


async def test_each_service_runs_as_its_own_process(nats_server, credentials, tmp_path):
    """`dangjian start --only <service>` — the container command — answers on the shared NATS, each
    process with its own credential (the test's credentials directory holds every one)."""
    import nats

    env = {**os.environ, "DANGJIAN_NATS_URL": nats_server.url, "DANGJIAN_DATA_DIR": str(tmp_path),
           "DANGJIAN_CREDENTIALS_DIR": str(credentials.directory)}
    replicas = {name: compose()["services"][name].get("deploy", {}).get("replicas", 1) for name in SERVICE_NAMES}
    procs = [subprocess.Popen([sys.executable, "-m", "services.cli", "start", "--only", name], env=env, cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for name in (*SERVICE_NAMES, "provisioner") for _ in range(replicas.get(name, 1))]
    nc = await nats.connect(nats_server.url, nkeys_seed_str=credentials.seed("operator"))
    try:
        answered = {}
        for _ in range(300):  # six processes importing everything on two busy cores: up to ~30 s
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
        body = {"token": token_for(Actor(sub="t", role="platform_admin")),
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
        for _ in range(50):  # (on a loaded machine an instance may answer health late, a lease be taken late)
            views = [p for h in await health_of_every_instance(nc, "ratings", wait_s=1.0) for p in h["projections"]
                     if p["county"] == code]
            if len(views) >= replicas["ratings"] and [p["role"] for p in views].count("active") == 1:
                break
            await asyncio.sleep(0.1)
        assert len(views) >= replicas["ratings"] >= 2
        assert [p["role"] for p in views].count("active") == 1
    finally:
        await nc.close()
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:  # never leave a process behind
                p.kill()
                p.wait()
