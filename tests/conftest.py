"""Session fixtures: a real nats-server on a free loopback port, real SQLite files (and PostgreSQL
when DANGJIAN_TEST_POSTGRES_URL is set), the services started against them.

The server enforces the same access control as production (shared/natsconf.py): nobody connects
without an nkey. `credentials` holds one per component (operator, gateway, cli, each service);
`settings` points the services at it, so each connects with its own. The `nc` fixture connects with
the operator credential: it may do what the gateway does (send commands and queries) and also manage
streams (tests create county streams and KV buckets directly). Tokens are EdDSA, signed with
TEST_SIGNING_KEY (= `settings.secret()`); `Caller` sends a token of its actor. To see what a
component may not do, connect with `await connect_as(nats_server, credentials, "<component>")`.
"""
from __future__ import annotations

import asyncio
import json
import os
import random
import threading
from collections.abc import AsyncIterator

import nats
import orjson
import pytest

from shared import bus
from shared.auth import Actor, issue_token
from shared.credentials import COMPONENTS, VERIFY_KEY, Keyring, new_signing_key_pem, verify_key_pem
from shared.natsconf import authorization_block
from shared.natsserver import EmbeddedNats
from shared.settings import Settings

POSTGRES_URL = os.environ.get("DANGJIAN_TEST_POSTGRES_URL")
TEST_SIGNING_KEY = new_signing_key_pem()
_used_codes: set[str] = set()


def new_county() -> str:
    """A fresh 6-digit county code per test, so tests never share a stream."""
    while True:
        code = str(random.randint(110000, 659999))
        if code not in _used_codes:
            _used_codes.add(code)
            return code


@pytest.fixture(scope="session")
def credentials(tmp_path_factory) -> Keyring:
    """Every component's nkey, and the public half of TEST_SIGNING_KEY (what service processes read)."""
    keyring = Keyring(tmp_path_factory.mktemp("credentials")).ensure(COMPONENTS, signing=False)
    (keyring.directory / VERIFY_KEY).write_text(verify_key_pem(TEST_SIGNING_KEY))
    return keyring


def _in_thread(coro_fn) -> None:
    """Run a coroutine on a loop of its own in a thread (a sync session fixture, beside the tests' loop)."""
    failure: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(coro_fn())
        except BaseException as exc:  # noqa: BLE001 - re-raised below
            failure.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]


@pytest.fixture(scope="session")
def nats_server(tmp_path_factory, credentials) -> EmbeddedNats:
    srv = EmbeddedNats(tmp_path_factory.mktemp("nats"), sync_always=False,
                       authorization=authorization_block(credentials.public_keys())).start()
    probe = Settings(credentials_dir=credentials.directory)

    async def provision() -> None:  # what the provisioner does at its start: the services' KV buckets
        from shared.eventstore import EventStore
        from shared.provisioning import ensure_buckets

        conn = await bus.connect(probe, "operator", srv.url, reconnect=False)
        try:
            await ensure_buckets(conn.jetstream(), probe, EventStore(conn))
        finally:
            await conn.close()

    try:
        _in_thread(provision)
    except BaseException:
        srv.stop()
        raise
    yield srv
    srv.stop()
    unexpected = refusals_of_the_system(srv)
    assert not unexpected, ("the server refused what a component needed (shared/natsconf.py lacks a "
                            f"permission):\n" + "\n".join(unexpected[:20]))


PROBE = "probe-"  # connections of tests that try what must be refused (tests/integration/test_access_control.py)


def refusals_of_the_system(srv: EmbeddedNats) -> list[str]:
    """Permission violations reported by the server for any connection but a test's probe: each would
    be an operation of the system silently dropped (a request then merely times out)."""
    log = srv.data_dir / "nats-server.log"
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    return [line for line in lines if "Violation" in line and f":{PROBE}" not in line and not late_reply(line)]


def late_reply(line: str) -> bool:
    """A service's reply to a test's request older than allow_responses' 2 minutes: the services run on
    the session's event loop, which stands still while synchronous tests run, and answer a backlog when
    it turns again. Not a missing permission (a refused reply path would fail the test that asked)."""
    return "Publish Violation" in line and 'Subject "_INBOX.' in line and "python3:dangjian-" in line


@pytest.fixture(scope="session")
def settings(nats_server, credentials, tmp_path_factory) -> Settings:
    return Settings(nats_url=nats_server.url, data_dir=tmp_path_factory.mktemp("data"),
                    credentials_dir=credentials.directory, jwt_signing_key=TEST_SIGNING_KEY,
                    read_your_writes_timeout_s=10, webhook_allow_private_hosts=True)  # receivers on loopback


async def connect_as(nats_server: EmbeddedNats, credentials: Keyring, component: str, **kw):
    """A connection with one component's credential and permissions (not reconnecting)."""
    return await bus.connect(Settings(credentials_dir=credentials.directory), component, nats_server.url,
                             reconnect=False, **kw)


@pytest.fixture(scope="session")
async def system(settings) -> AsyncIterator:
    from services.launcher import System

    sysm = await System(settings).start()
    yield sysm
    await sysm.stop()


@pytest.fixture(scope="session")
async def nc(nats_server, credentials):
    """Operator credential: the gateway's rights (commands, queries) and stream management."""
    conn = await nats.connect(nats_server.url, nkeys_seed_str=credentials.seed("operator"))
    yield conn
    await conn.drain()


_tokens: dict[Actor, str] = {}


def token_for(actor: Actor) -> str:
    """A token of `actor` signed with the test key (one per actor, as a client reuses its token)."""
    token = _tokens.get(actor)
    if token is None:
        token = _tokens[actor] = issue_token(TEST_SIGNING_KEY, actor)
    return token


class Caller:
    """Sends commands/queries exactly as the gateway does (NATS request/reply with the actor's token)."""

    def __init__(self, conn, actor: Actor):
        self.nc, self.actor = conn, actor

    async def send(self, county: str, kind: str, service: str, name: str, data: dict | None = None,
                   min_seq: int | None = None, actor: Actor | None = None) -> dict:
        body = {"token": token_for(actor or self.actor), "data": data or {}, "min_seq": min_seq}
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


def cli_json(stdout: str):
    """The JSON document a CLI command printed. CliRunner captures the process's stdout, so a log line of
    the in-process test system may land beside it: the document is the first line that opens one."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith(("{", "[")))
    return json.JSONDecoder().raw_decode("\n".join(lines[start:]).lstrip())[0]


def cli_env(settings: Settings) -> dict[str, str]:
    """Environment for running the `dangjian` CLI against the test system: the CLI's own nkey and the
    token signing key (the CLI mints a short-lived token per call)."""
    return {"COLUMNS": "200", "DANGJIAN_CREDENTIALS_DIR": str(settings.credentials_path),
            "DANGJIAN_JWT_SIGNING_KEY": settings.secret()}
