"""NATS access control (shared/natsconf.py): each component connects with its own nkey and is refused
what is not its job. A refused publish is dropped by the server, which reports a permissions violation
naming the subject; the tests check both the report and that nothing changed."""
from __future__ import annotations

import asyncio

import nats
import orjson
import pytest

from shared.auth import Actor, issue_token
from shared.credentials import COMPONENTS, new_signing_key_pem, new_user_seed
from shared.envelope import Metadata, seal, subject_for
from shared.eventstore import EventStore, stream_name
from shared.catalog.organizations import TownshipAdded
from tests.conftest import PROBE, Caller, connect_as, new_county, token_for

PLATFORM = Actor(sub="platform-admin", role="platform_admin")
NOT_OPERATOR = tuple(c for c in COMPONENTS if c != "operator")


class Watched:
    """A connection as one component, with the server's permission reports collected."""

    def __init__(self, conn, reports: list[str]):
        self.nc, self.reports = conn, reports

    async def refused(self, subject: str, payload: bytes = b"", request: bool = True) -> None:
        self.reports.clear()
        if request:
            with pytest.raises(nats.errors.TimeoutError):
                await self.nc.request(subject, payload, timeout=0.5)
        else:
            await self.nc.publish(subject, payload)
            await self.nc.flush()
        for _ in range(40):
            if any(subject.lower() in r for r in self.reports):
                break
            await asyncio.sleep(0.05)
        assert any("permissions violation for publish" in r and subject.lower() in r for r in self.reports), \
            self.reports

    async def cannot_subscribe(self, subject: str) -> None:
        self.reports.clear()
        await self.nc.subscribe(subject)
        await self.nc.flush()
        for _ in range(40):
            if any("subscription" in r for r in self.reports):
                break
            await asyncio.sleep(0.05)
        assert any("permissions violation for subscription" in r and subject.lower() in r for r in self.reports), \
            self.reports


@pytest.fixture
async def as_component(nats_server, credentials):
    opened: list = []

    async def connect(component: str) -> Watched:
        reports: list[str] = []

        async def on_error(exc: Exception) -> None:
            reports.append(str(exc).lower())

        conn = await connect_as(nats_server, credentials, component, error_cb=on_error, name=f"{PROBE}{component}")
        opened.append(conn)
        return Watched(conn, reports)

    yield connect
    for conn in opened:
        await conn.close()


async def county_with_stream(system, caller: Caller) -> str:
    code = new_county()
    reply = await caller.cmd(code, "organizations", "add_county", {"county_code": code, "name": "测试县"})
    assert reply["ok"], reply
    return code


async def test_anonymous_and_unknown_connections_are_refused(nats_server):
    with pytest.raises(nats.errors.Error, match="Authorization Violation"):
        await nats.connect(nats_server.url, allow_reconnect=False, max_reconnect_attempts=0, connect_timeout=2)
    with pytest.raises(nats.errors.Error, match="Authorization Violation"):  # a well-formed nkey it does not know
        await nats.connect(nats_server.url, nkeys_seed_str=new_user_seed(), allow_reconnect=False,
                           max_reconnect_attempts=0, connect_timeout=2)


@pytest.mark.parametrize("component", NOT_OPERATOR)
async def test_only_the_operator_may_delete_purge_or_change_a_county_stream(system, caller, nc, as_component,
                                                                            component):
    code = await county_with_stream(system, caller)
    stream = stream_name(code)
    who = await as_component(component)
    for api in (f"$JS.API.STREAM.DELETE.{stream}", f"$JS.API.STREAM.PURGE.{stream}",
                f"$JS.API.STREAM.UPDATE.{stream}", f"$JS.API.STREAM.MSG.DELETE.{stream}",
                f"$JS.API.STREAM.CREATE.PB_{new_county()}"):
        await who.refused(api, orjson.dumps({"name": stream}))
    info = await nc.jetstream().stream_info(stream)  # still there, every event still in it
    assert info.state.messages >= 1


async def test_the_operator_may_manage_streams(nc):
    js = nc.jetstream()
    await js.add_stream(name="OPERATOR_PROBE", subjects=["operator.probe"])
    assert await js.delete_stream("OPERATOR_PROBE")


async def test_gateway_sends_commands_and_queries_but_writes_no_event(system, caller, as_component, nc):
    code = await county_with_stream(system, caller)
    gateway = await as_component("gateway")
    asked = Caller(gateway.nc, Actor(sub="ca", role="county_admin", county=code))
    assert (await asked.qry(code, "organizations", "list_townships"))["ok"]
    before = (await nc.jetstream().stream_info(stream_name(code))).state.last_seq
    env = seal(code, "t-forged", TownshipAdded(township_id="t-forged", name="伪造镇"), Metadata("forger"), None)
    await gateway.refused(subject_for(code, "org", "township", "t-forged"), orjson.dumps(env))
    await gateway.cannot_subscribe("pb.*.cmd.>")          # nor overhear other clients' commands
    await gateway.cannot_subscribe("_INBOX.ratings.>")    # nor a service's replies
    assert (await nc.jetstream().stream_info(stream_name(code))).state.last_seq == before


async def test_a_service_writes_only_its_own_context_and_sends_no_command(system, caller, as_component, nc):
    code = await county_with_stream(system, caller)
    ratings = await as_component("ratings")
    before = (await nc.jetstream().stream_info(stream_name(code))).state.last_seq
    env = seal(code, "t-forged", TownshipAdded(township_id="t-forged", name="伪造镇"), Metadata("forger"), None)
    await ratings.refused(subject_for(code, "org", "township", "t-forged"), orjson.dumps(env))  # another context
    await ratings.refused(f"pb.{code}.cmd.organizations.add_township", b"{}")  # commands come from the gateway
    await ratings.refused("pb.platform.provision.county", code.encode())      # only organizations adds counties
    await ratings.refused("pb.platform.county_added", code.encode(), request=False)
    await ratings.cannot_subscribe("pb.*.cmd.organizations.>")
    assert (await nc.jetstream().stream_info(stream_name(code))).state.last_seq == before
    # what it may do: append to its own context (here straight through JetStream)
    store = EventStore(ratings.nc)
    assert await store.last_seq(code) == before
    organizations = await as_component("organizations")
    await organizations.refused(subject_for(code, "ratings", "points", "2026.member.x"), orjson.dumps(env))


async def test_a_request_carries_a_verified_token_not_an_actor_claim(system, nc):
    code = new_county()
    forged = issue_token(new_signing_key_pem(), PLATFORM)  # signed, but not with the platform's key
    for body in ({"token": forged, "data": {"county_code": code, "name": "伪造县"}},
                 {"actor": PLATFORM.model_dump(), "data": {"county_code": code, "name": "伪造县"}}):
        reply = orjson.loads((await nc.request(f"pb.{code}.cmd.organizations.add_county", orjson.dumps(body),
                                               timeout=10)).data)
        assert not reply["ok"] and reply["error"]["status"] in (401, 422), reply
    assert not await EventStore(nc).has_county(code)
    body = {"token": token_for(PLATFORM), "data": {"county_code": code, "name": "真县"}}
    reply = orjson.loads((await nc.request(f"pb.{code}.cmd.organizations.add_county", orjson.dumps(body),
                                           timeout=10)).data)
    assert reply["ok"], reply
    assert await EventStore(nc).has_county(code)  # created by the provisioner, asked by organizations


async def test_a_token_longer_lived_than_the_maximum_is_refused_by_the_service(system, nc, settings):
    from datetime import timedelta

    code = new_county()
    long_lived = issue_token(settings.secret(), PLATFORM, timedelta(hours=settings.jwt_max_ttl_hours + 1))
    body = {"token": long_lived, "data": {"county_code": code, "name": "长效县"}}
    reply = orjson.loads((await nc.request(f"pb.{code}.cmd.organizations.add_county", orjson.dumps(body),
                                           timeout=10)).data)
    assert reply["error"]["code"] == "unauthenticated" and "lifetime" in reply["error"]["detail"]
