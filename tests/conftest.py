"""Session fixtures: a real nats-server on a free loopback port, real SQLite files (and PostgreSQL
when DANGJIAN_TEST_POSTGRES_URL is set), the services started against them."""
from __future__ import annotations

import os
import random
from collections.abc import AsyncIterator

import nats
import orjson
import pytest

from shared.auth import Actor
from shared.natsserver import EmbeddedNats
from shared.settings import Settings

POSTGRES_URL = os.environ.get("DANGJIAN_TEST_POSTGRES_URL")
_used_codes: set[str] = set()


def new_county() -> str:
    """A fresh 6-digit county code per test, so tests never share a stream."""
    while True:
        code = str(random.randint(110000, 659999))
        if code not in _used_codes:
            _used_codes.add(code)
            return code


@pytest.fixture(scope="session")
def nats_server(tmp_path_factory) -> EmbeddedNats:
    srv = EmbeddedNats(tmp_path_factory.mktemp("nats"), sync_always=False).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def settings(nats_server, tmp_path_factory) -> Settings:
    return Settings(nats_url=nats_server.url, data_dir=tmp_path_factory.mktemp("data"), jwt_secret="test-secret-" + "x" * 40,
                    read_your_writes_timeout_s=10)


@pytest.fixture(scope="session")
async def system(settings) -> AsyncIterator:
    from services.launcher import System

    sysm = await System(settings).start()
    yield sysm
    await sysm.stop()


@pytest.fixture(scope="session")
async def nc(nats_server):
    conn = await nats.connect(nats_server.url)
    yield conn
    await conn.drain()


class Caller:
    """Sends commands/queries exactly as the gateway does (NATS request/reply)."""

    def __init__(self, conn, actor: Actor):
        self.nc, self.actor = conn, actor

    async def send(self, county: str, kind: str, service: str, name: str, data: dict | None = None,
                   min_seq: int | None = None, actor: Actor | None = None) -> dict:
        body = {"actor": (actor or self.actor).model_dump(), "data": data or {}, "min_seq": min_seq}
        msg = await self.nc.request(f"pb.{county}.{kind}.{service}.{name}", orjson.dumps(body, default=str),
                                    timeout=30)
        return orjson.loads(msg.data)

    async def cmd(self, county, service, name, data=None, **kw) -> dict:
        return await self.send(county, "cmd", service, name, data, **kw)

    async def qry(self, county, service, name, data=None, **kw) -> dict:
        return await self.send(county, "qry", service, name, data, **kw)


PLATFORM = Actor(sub="platform-admin", role="platform_admin")


@pytest.fixture
def caller(nc) -> Caller:
    return Caller(nc, PLATFORM)
