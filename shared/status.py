"""Each process's own status port (DANGJIAN_METRICS_PORT): `GET /metrics` (Prometheus text from
prometheus-client's registry) and `GET /healthz` (this process only: 200 while every NATS connection it
holds is connected and it has started, 503 otherwise).

It is what a container healthcheck asks (docker-compose.yml) and what Prometheus scrapes. It is not the
gateway's public port and is not published by the compose file, so it needs no token; it shows no county
data beyond the (projection, county) labels of the metrics. The gateway's public `/healthz` answers only
ok/degraded for the whole system.
"""
from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import orjson
import structlog
import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

log = structlog.get_logger(__name__)


class StatusServer:
    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.checks: dict[str, Callable[[], bool]] = {}
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task | None = None

    def watch(self, name: str, connection) -> None:
        """A NATS connection whose loss makes this process unhealthy (it reconnects by itself)."""
        self.checks[name] = lambda: bool(connection and connection.is_connected)

    def state(self) -> dict[str, bool]:
        return {name: check() for name, check in self.checks.items()}

    async def _healthz(self, request: Request) -> Response:
        state = self.state()
        healthy = bool(state) and all(state.values())
        body = {"status": "ok" if healthy else "unavailable", "connections": state}
        return Response(orjson.dumps(body), 200 if healthy else 503, media_type="application/json")

    async def _metrics(self, request: Request) -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    async def start(self) -> "StatusServer":
        app = Starlette(routes=[Route("/healthz", self._healthz), Route("/metrics", self._metrics)])
        config = uvicorn.Config(app, host=self.host, port=self.port, log_level="warning", access_log=False,
                                log_config=None, lifespan="off")
        self._server = uvicorn.Server(config)
        self._server.install_signal_handlers = lambda: None  # the launcher's own handlers stop the process
        self._task = asyncio.create_task(self._server.serve(), name="status-server")
        while not self._server.started and not self._task.done():
            await asyncio.sleep(0.02)
        if self._task.done():  # e.g. the port is taken: say so instead of running without health
            self._task.result()
            raise RuntimeError(f"status port {self.host}:{self.port} did not open")
        log.info("status.listening", host=self.host, port=self.port)
        return self

    async def stop(self) -> None:
        if self._server and self._task:
            self._server.should_exit = True
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._task, 5)
