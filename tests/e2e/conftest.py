"""The HTTP gateway served by uvicorn on a free loopback port, in front of the session's services."""
from __future__ import annotations

import asyncio

import httpx
import pytest
import uvicorn

from shared.auth import Actor, issue_token
from shared.natsserver import free_port
from services.gateway.app import create_app


@pytest.fixture(scope="session")
async def gateway(system, settings):
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings, system.nats_url), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="on"))
    server.install_signal_handlers = lambda: None
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


@pytest.fixture
def token(settings):
    def make(role: str, county: str | None = None, **scope) -> dict[str, str]:
        actor = Actor(sub=f"{role}-tester", role=role, county=county, **scope)
        return {"Authorization": f"Bearer {issue_token(settings.secret(), actor)}"}
    return make


@pytest.fixture
async def http(gateway):
    async with httpx.AsyncClient(base_url=gateway, timeout=30) as client:
        yield client
