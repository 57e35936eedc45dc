"""Delivery guarantees across a crash: the notifications service runs as its own process, is killed
with SIGKILL in the middle of delivering 150 notifications to a webhook, and is started again — or, with
two instances, the one driving the county's deliveries (the lease holder) is killed and the standby takes
over. Every notification reaches the receiver (verified signatures), once per id after the receiver's
de-duplication, and the log holds each notification exactly once."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from datetime import date
from pathlib import Path

import orjson

from shared import bus
from shared.auth import Actor
from shared.catalog.organizations import OrganizationEstablished
from shared.envelope import Metadata, seal, subject_for
from shared.messaging import health_of_every_instance
from shared.eventstore import EventStore, stream_name
from shared.natsconf import authorization_block
from shared.natsserver import EmbeddedNats
from shared.provisioning import ensure_buckets
from shared.settings import Settings
from shared.signing import Signer
from tests.conftest import new_county, token_for
from tests.e2e.receivers import Receivers

ROOT = Path(__file__).resolve().parents[1]
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
COUNT = 150


def start_notifications(srv: EmbeddedNats, credentials, data: Path) -> subprocess.Popen:
    env = {**os.environ, "DANGJIAN_NATS_URL": srv.url, "DANGJIAN_DATA_DIR": str(data),
           "DANGJIAN_CREDENTIALS_DIR": str(credentials.directory), "DANGJIAN_LEASE_TTL_S": "2",
           "DANGJIAN_WEBHOOK_ALLOW_PRIVATE_HOSTS": "true"}
    log = open(data / "notifications.log", "ab")
    return subprocess.Popen([sys.executable, "-m", "services.cli", "start", "--only", "notifications"], env=env,
                            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)


async def test_killing_the_service_mid_delivery_loses_nothing(tmp_path, credentials):
    await crash_mid_delivery(tmp_path, credentials, instances=1)


async def test_a_standby_instance_takes_over_the_deliveries_of_a_killed_one(tmp_path, credentials):
    await crash_mid_delivery(tmp_path, credentials, instances=2)


async def lease_holder(nc, procs: list[subprocess.Popen], county: str) -> subprocess.Popen:
    """The process holding the county's notifications.feed lease: it drives the deliveries."""
    for _ in range(300):
        for health in await health_of_every_instance(nc, "notifications"):
            if any(p["projection"] == "notifications.feed" and p["county"] == county and p.get("role") == "active"
                   for p in health["projections"]):
                pid = int(health["instance"].split("-")[-2])
                return next(p for p in procs if p.pid == pid)
        await asyncio.sleep(0.1)
    raise AssertionError("no instance holds the deliveries' lease")


async def crash_mid_delivery(tmp_path, credentials, instances: int) -> None:
    srv = EmbeddedNats(tmp_path / "nats", sync_always=False,
                       authorization=authorization_block(credentials.public_keys())).start()
    rx = await Receivers().start()
    procs: list[subprocess.Popen] = []
    nc = await bus.connect(Settings(credentials_dir=credentials.directory), "operator", srv.url, reconnect=False)
    try:
        await ensure_buckets(nc.jetstream(), Settings(credentials_dir=credentials.directory))
        county, store = new_county(), EventStore(nc)
        await store.add_county_stream(county)
        (tmp_path / "data").mkdir()
        procs += [start_notifications(srv, credentials, tmp_path / "data") for _ in range(instances)]
        admin = token_for(Actor(sub="crash-admin", role="county_admin", county=county))

        async def command(name: str, data: dict) -> dict:
            for _ in range(300):  # the process is still starting
                try:
                    msg = await nc.request(f"pb.{county}.cmd.notifications.{name}",
                                           orjson.dumps({"token": admin, "data": data}), timeout=2)
                    return orjson.loads(msg.data)
                except Exception:
                    await asyncio.sleep(0.1)
            raise AssertionError("the notifications service never answered")

        rx.secrets["hook"] = [SECRET]
        rx.delay = 0.01  # deliveries take a while: the kill lands in the middle of them
        reply = await command("create_subscription", {"subscription_id": "hook", "name": "hook", "channel": "webhook",
                                                      "url": f"{rx.url}/hook/hook", "secret": SECRET})
        assert reply["ok"], reply
        victim = await lease_holder(nc, procs, county)
        meta, signer = Metadata("test:crash"), Signer.load(credentials.directory, "organizations")  # as it writes them
        for i in range(COUNT):
            ev = OrganizationEstablished(organization_id=f"o{i}", name=f"第{i}村党支部", organization_type="branch",
                                         host_unit_type="village", township_id="t", approved_by="镇党委",
                                         approved_on=date(2026, 1, 1))
            await store.append(county, subject_for(county, "org", "organization", f"o{i}"),
                               [seal(county, f"o{i}", ev, meta, None, signer=signer)], 0)
        for _ in range(600):
            if len(rx.got["hook"]) >= 20:
                break
            await asyncio.sleep(0.05)
        assert 20 <= len(rx.got["hook"]) < COUNT, "the kill must land in the middle of the deliveries"
        victim.send_signal(signal.SIGKILL)
        victim.wait(10)
        if instances == 1:
            procs.append(start_notifications(srv, credentials, tmp_path / "data"))
        else:  # the standby takes the lease within its TTL and finds the pending deliveries
            assert await lease_holder(nc, procs, county) is not victim
        for _ in range(1200):
            if len(rx.ids("hook")) == COUNT:
                break
            await asyncio.sleep(0.1)
        assert len(rx.ids("hook")) == COUNT and not rx.refused  # every notification, signed
        info = await nc.jetstream().stream_info(stream_name(county),
                                                subjects_filter=f"pb.{county}.evt.notifications.notification.>")
        assert len(info.state.subjects) == COUNT and set(info.state.subjects.values()) == {1}  # issued once each
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(30)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        await nc.close()
        await rx.stop()
        srv.stop()
