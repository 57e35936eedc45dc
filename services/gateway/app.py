"""The HTTP edge: FastAPI app wiring (routes, auth, problem+json, NATS connection).

    app = create_app(settings, nats_url)            # connects to NATS in the lifespan
    app = create_app(settings, "", client=fake)     # unit tests: any ServiceClient-like object
"""
from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline
from fastapi.staticfiles import StaticFiles

from services.gateway import pages, problems
from services.gateway.client import ServiceClient
from services.gateway.coalesce import ScoreCoalescer
from services.gateway.edge import SeqTracker
from services.gateway.middleware import EdgeMiddleware
from services.gateway.live import LiveFeed
from services.gateway.routes import (accounts, audit, campaigns, centres, coverage, development, enterprises, health,
                                     jobs, membership, notifications, organizations, posts, ratings, rollups, rooms,
                                     scores, tokens)
from shared import bus
from shared.auth import TokenVerifier
from shared.jobs import JobRegistry
from shared.revocations import RevocationList
from shared.settings import Settings

STATIC = Path(__file__).parent / "static"
MAX_BODY_BYTES = 11 * 1024 * 1024  # a 10 MB import file plus multipart framing
DESCRIPTION = """县级党组织部门的基层党建管理接口：组织与党员、组织生命周期与换届、分类定级与软弱涣散整顿、
两新组织与党组织覆盖、星级管理（积分换星）。

All endpoints except `/healthz` need `Authorization: Bearer <jwt>`. Errors are
`application/problem+json` (RFC 9457) with a stable `code` and field-level `errors`.
Writes answer the stream sequence as `seq` and the `Dangjian-Seq` header; a later read by the same
client waits for it (or send `Dangjian-Min-Seq` yourself)."""


def create_app(settings: Settings, nats_url: str, client: ServiceClient | None = None) -> FastAPI:
    """`client` replaces the NATS connection (no broker is contacted when it is given)."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if client is not None:
            yield
            return
        nc = app.state.nc = await bus.connect(settings, "gateway", nats_url)
        app.state.client = ServiceClient(nc, settings.request_timeout_s)
        await app.state.revocations.start(nc.jetstream())
        app.state.live = LiveFeed(nc, settings.credentials_path)
        app.state.jobs = JobRegistry(nc.jetstream())
        try:
            yield
        finally:
            await app.state.live.close()
            await app.state.revocations.stop()
            with contextlib.suppress(Exception):
                await nc.drain()

    # FastAPIOffline serves Swagger UI from the installed package: no CDN (sites are often offline)
    app = FastAPIOffline(title="dangjian 党建 API", version="1.0.0", description=DESCRIPTION, lifespan=lifespan,
                  openapi_url="/openapi.json", docs_url="/docs", redoc_url=None,
                  generate_unique_id_function=lambda route: route.name)
    app.state.verifier = TokenVerifier(settings.verify_key(), settings.max_token_ttl)  # public key only
    app.state.revocations = RevocationList()
    app.state.client = client
    app.state.nc = None
    app.state.jobs = None  # the job registry (a KV bucket): needs the NATS connection (lifespan)
    app.state.running_jobs = set()  # jobs this gateway runs (the 积分表 import), held until done
    app.state.event_keys_path = settings.credentials_path  # event-keys.json: public, served to auditors
    app.state.seq_tracker = SeqTracker()
    app.state.score_coalescer = ScoreCoalescer(lambda: app.state.client)
    app.state.live = None  # the live notification feed: needs the NATS connection (lifespan)
    app.state.sse_ping_s = settings.sse_ping_s
    problems.install(app)
    app.openapi = problems.openapi_with_problems(app)
    app.add_middleware(EdgeMiddleware, max_body=MAX_BODY_BYTES)
    for module in (accounts, organizations, campaigns, enterprises, coverage, centres, posts, rooms, ratings, scores,
                   rollups, audit, notifications, health, tokens, development, membership, jobs):
        app.include_router(module.router)

    app.include_router(pages.router)  # the workbench (server-rendered, cookie session)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app

