"""Starts the whole system in one process: the embedded nats-server (unless DANGJIAN_NATS_URL is
set) with every component's credentials (generated into the data directory on first start), the
provisioner (operator credential), the organizations, ratings and notifications services, and the
HTTP gateway. The embedded server is restarted when it dies; when it cannot be, the process exits
non-zero (EXIT_BROKER_LOST) so that a supervisor restarts the whole program."""
from __future__ import annotations

import asyncio
import contextlib
import json
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import structlog

from shared.credentials import COMPONENTS
from shared.natsconf import authorization_block
from shared.natsserver import BrokerLost, EmbeddedNats
from shared.provisioning import Provisioner
from shared.service import Service
from shared.settings import Settings
from shared.status import StatusServer

log = structlog.get_logger(__name__)
SERVICE_NAMES = ("organizations", "ratings", "notifications")
EXIT_BROKER_LOST = 3


def create_service(name: str) -> Service:
    if name == "organizations":
        from services.organizations.app import create_service as make
    elif name == "ratings":
        from services.ratings.app import create_service as make
    elif name == "notifications":
        from services.notifications.app import create_service as make
    else:
        raise ValueError(f"unknown service {name!r}; choose from {', '.join(SERVICE_NAMES)}")
    return make()


@dataclass
class System:
    settings: Settings
    nats_url: str = ""
    embedded: EmbeddedNats | None = None
    provisioner: Provisioner | None = None
    services: list[Service] = field(default_factory=list)
    supervisor: asyncio.Task | None = None

    async def start(self, names: tuple[str, ...] = SERVICE_NAMES, provision: bool = True) -> "System":
        """`provision`: run the provisioner here (it needs the operator credential)."""
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        if self.settings.nats_url:
            self.nats_url = self.settings.nats_address
        else:
            keyring = self.settings.keyring().ensure(COMPONENTS)  # first start: every credential, 0600
            self.embedded = EmbeddedNats(self.settings.data_dir / "nats", port=self.settings.nats_port,
                                         sync_always=self.settings.sync_always,
                                         authorization=authorization_block(keyring.public_keys()))
            await self.embedded.start_async()
            self.nats_url = self.embedded.url
            self.supervisor = asyncio.create_task(self.embedded.supervise(), name="nats-supervisor")
        (self.settings.data_dir / "runtime.json").write_text(json.dumps({"nats_url": self.nats_url}))
        if provision:
            self.provisioner = await Provisioner(self.settings).start(self.nats_url)
        for name in names:
            svc = create_service(name)
            await svc.start(self.nats_url, self.settings)
            self.services.append(svc)
        return self

    async def stop(self) -> None:
        for svc in reversed(self.services):
            with contextlib.suppress(Exception):
                await svc.stop()
        self.services.clear()
        if self.provisioner:
            await self.provisioner.stop()
            self.provisioner = None
        if self.supervisor and not self.supervisor.done():
            self.supervisor.cancel()
        if self.embedded:
            self.embedded.stop()
            self.embedded = None

    def service(self, name: str) -> Service:
        return next(s for s in self.services if s.name == name)


def run_on_loop(settings: Settings, main: Awaitable[None]) -> None:
    """asyncio.run on the configured event loop: uvloop by default (less CPU per NATS message and HTTP
    request, measured in docs/decisions/021-performance.md), the standard library's on request."""
    if settings.event_loop == "uvloop":
        import uvloop

        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(main)
        return
    asyncio.run(main)


async def run_all(settings: Settings, on_ready: Callable[[System, str], Awaitable[None] | None] | None = None,
                  services: tuple[str, ...] = SERVICE_NAMES, gateway: bool = True, provision: bool = True) -> None:
    import uvicorn

    from services.gateway.app import create_app
    from shared import logs

    logs.configure(settings.log_level, settings.log_format)  # no locals in tracebacks: they may hold tokens or seeds
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):  # stop cleanly: never leave the embedded nats-server behind
        loop.add_signal_handler(sig, stop.set)
    system = await System(settings).start(services, provision)
    broker_lost = system.supervisor or asyncio.create_task(asyncio.Event().wait())
    status = StatusServer(settings.metrics_host, settings.metrics_port) if settings.metrics_port else None
    try:
        url = f"http://{settings.http_host}:{settings.http_port}"
        if not gateway:
            await _open_status(status, system, None)
            if on_ready:
                await _maybe_await(on_ready(system, ""))
            await asyncio.wait([broker_lost, asyncio.create_task(stop.wait())], return_when=asyncio.FIRST_COMPLETED)
            return
        app = create_app(settings, system.nats_url)
        # log_config=None: uvicorn's lines go through our renderer (shared/logs.py); the gateway's own
        # middleware writes the access log, with the correlation id
        config = uvicorn.Config(app, host=settings.http_host, port=settings.http_port, log_level="warning",
                                log_config=None, access_log=False, lifespan="on", http=settings.http_parser)
        server = uvicorn.Server(config)
        server.install_signal_handlers = lambda: None  # ours above
        serve = asyncio.create_task(server.serve())
        while not server.started and not serve.done():
            await asyncio.sleep(0.05)
        if server.started:
            await _open_status(status, system, app)
        if on_ready and server.started:
            await _maybe_await(on_ready(system, url))
        await asyncio.wait([serve, broker_lost, asyncio.create_task(stop.wait())], return_when=asyncio.FIRST_COMPLETED)
        server.should_exit = True
        await serve
    finally:
        if broker_lost.done() and not broker_lost.cancelled() and isinstance(broker_lost.exception(), BrokerLost):
            log.error("launcher.broker_lost", error=str(broker_lost.exception()))
            with contextlib.suppress(Exception):  # no broker left to drain into: a bounded stop, then exit
                async with asyncio.timeout(5):
                    await system.stop()
            raise SystemExit(EXIT_BROKER_LOST)
        if status:
            await status.stop()
        await system.stop()


async def _open_status(status: StatusServer | None, system: System, app) -> None:
    """The status port opens once everything in this process has started: healthy means ready."""
    if status is None:
        return
    for svc in system.services:
        status.watch(svc.name, svc.nc)
    if system.provisioner:
        status.watch("provisioner", system.provisioner.nc)
    if app is not None:
        status.checks["gateway"] = lambda: bool(app.state.nc and app.state.nc.is_connected)
    await status.start()


async def _maybe_await(value) -> None:
    if asyncio.iscoroutine(value):
        await value
