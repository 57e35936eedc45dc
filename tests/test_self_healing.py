"""The embedded broker comes back: the launcher restarts a killed nats-server on the same port, store
and credentials, the services reconnect, and nothing acknowledged is lost; when it cannot restart
it, the program exits non-zero. And the secrets of a running system stay out of its output."""
from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import orjson
import psutil
import pytest

from shared import bus
from shared.auth import Actor, issue_token
from shared.eventstore import EventStore
from shared.natsserver import free_port
from shared.settings import Settings
from services.launcher import EXIT_BROKER_LOST, System
from tests.conftest import new_county

ROOT = Path(__file__).resolve().parents[1]


async def _send(nc, settings: Settings, county: str, name: str, data: dict, actor: Actor) -> dict:
    body = {"token": issue_token(settings.secret(), actor), "data": data}
    msg = await nc.request(f"pb.{county}.cmd.organizations.{name}", orjson.dumps(body), timeout=3)
    return orjson.loads(msg.data)


async def test_killed_broker_is_restarted_and_every_acknowledged_command_is_in_the_log(tmp_path):
    settings = Settings(data_dir=tmp_path, read_your_writes_timeout_s=5, lease_ttl_s=3)
    system = await System(settings).start()
    nc = await bus.connect(settings, "cli", system.nats_url)  # the CLI's credential, reconnecting
    try:
        county = new_county()
        assert (await _send(nc, settings, county, "add_county", {"county_code": county, "name": "自愈县"},
                            Actor(sub="admin", role="platform_admin")))["ok"]
        admin = Actor(sub="ca", role="county_admin", county=county)
        acknowledged: list[str] = []
        failed = 0
        killed_at = answered_again_at = None
        first_pid = system.embedded.proc.pid
        for i in range(400):
            if i == 40:  # a stream of commands is running: kill -9 the broker
                os.kill(system.embedded.proc.pid, signal.SIGKILL)
                killed_at = time.monotonic()
            township = f"t{i:04d}"
            try:
                reply = await _send(nc, settings, county, "add_township", {"name": f"镇{i}", "township_id": township},
                                    admin)
            except Exception:  # noqa: BLE001 - no answer: not acknowledged (timeout, reconnecting)
                failed += 1
                await asyncio.sleep(0.1)
                continue
            assert reply["ok"], reply
            acknowledged.append(township)
            if killed_at and answered_again_at is None:
                answered_again_at = time.monotonic()
            if answered_again_at and len(acknowledged) >= 80:
                break
        assert killed_at and answered_again_at, f"no answer after the kill ({failed} failed)"
        assert answered_again_at - killed_at < 10, answered_again_at - killed_at
        assert system.embedded.proc.pid != first_pid and system.embedded.restarts == 1
        # every acknowledged command's event is in the log, exactly once
        store = EventStore(nc)
        logged = [e.aggregate_id async for e in store.read(county) if e.type == "TownshipAdded"]
        assert sorted(logged) == sorted(set(logged))
        assert set(acknowledged) <= set(logged)
        print(f"broker killed: answered again after {answered_again_at - killed_at:.2f} s, "
              f"{len(acknowledged)} acknowledged, {failed} unanswered during the outage")
        # the CLI (its own credential) verifies the log's hash chains after the kill
        verified = await _cli(tmp_path, "verify", county)
        assert verified.exit_code == 0 and "every signature, chain and sequence intact" in verified.output, verified.output
        # `dangjian health` exits 0 while every service answers "ok", non-zero once one is unreachable
        assert (await _cli(tmp_path, "health")).exit_code == 0
        await system.service("notifications").stop()
        system.services.remove(system.service("notifications"))
        result = await _cli(tmp_path, "health")
        assert result.exit_code == 1 and "unreachable" in result.output, result.output
    finally:
        await nc.close()
        await system.stop()


def _listen(port: int) -> socket.socket | None:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError:
        sock.close()
        return None
    sock.listen()
    return sock


async def _cli(data_dir: Path, *args: str):
    from typer.testing import CliRunner

    from services.cli import app

    return await asyncio.to_thread(CliRunner().invoke, app, [*args, "--data-dir", str(data_dir)],
                                   env={"COLUMNS": "200"})


def _wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_start_keeps_secrets_out_of_its_output_and_exits_non_zero_when_the_broker_cannot_come_back(tmp_path):
    data, port = tmp_path / "var", free_port()
    out = open(tmp_path / "output.log", "wb")
    env = {**os.environ, "DANGJIAN_DATA_DIR": str(data), "DANGJIAN_HTTP_PORT": str(port)}
    proc = subprocess.Popen([sys.executable, "-m", "services.cli", "start"], cwd=ROOT, env=env, stdout=out,
                            stderr=subprocess.STDOUT)
    try:
        token_file = data / "credentials" / "admin-token"
        _wait_for(lambda: token_file.exists() and (data / "runtime.json").exists(), 60, "the system to start")
        assert token_file.stat().st_mode & 0o777 == 0o600
        token = token_file.read_text().strip()
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            county = new_county()
            r = http.post("/api/v1/counties", json={"county_code": county, "name": "日志县"}, headers=headers)
            assert r.status_code == 201, r.text
            assert http.get("/healthz").json() == {"status": "ok"}
            assert county in str(http.get("/healthz", headers=headers).json()["services"])
            assert http.get(f"/api/v1/counties/{county}/townships", headers={"Authorization": "Bearer x.y.z"}
                            ).status_code == 401
        health = subprocess.run([sys.executable, "-m", "services.cli", "health"], cwd=ROOT, env=env,
                                capture_output=True, timeout=60)
        assert health.returncode == 0, health.stdout + health.stderr
        # the broker dies and its port is taken before the launcher can restart it: it gives up, exits 3
        launcher = psutil.Process(proc.pid)
        broker = next(c for c in launcher.children() if c.name() == "nats-server")
        nats_port = int(json.loads((data / "runtime.json").read_text())["nats_url"].rsplit(":", 1)[1])
        launcher.suspend()  # so that it cannot restart the broker before the port is taken
        broker.kill()
        squatter = _wait_for(lambda: _listen(nats_port), 10, "the broker's port to be free")
        launcher.resume()
        try:
            assert proc.wait(60) == EXIT_BROKER_LOST
        finally:
            squatter.close()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        out.close()
    output = (tmp_path / "output.log").read_text(errors="replace")
    assert "nats.server_restart_failed" in output and "launcher.broker_lost" in output
    logs = output + (data / "nats" / "nats-server.log").read_text(errors="replace")
    secrets = [token, *(p.read_text().strip() for p in (data / "credentials").glob("*.nk"))]
    signing = (data / "credentials" / "jwt-signing.pem").read_text()
    secrets += [line for line in signing.splitlines() if line and "PRIVATE KEY" not in line]
    assert len(secrets) >= 8
    leaked = [s[:8] + "…" for s in secrets if s in logs]
    assert not leaked, f"secrets in the output: {leaked}"
    assert "Admin token (platform_admin, valid 60 min" in output and str(token_file.resolve()) in output
