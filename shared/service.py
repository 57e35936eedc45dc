"""The shape every service shares: a FastStream broker answering its commands and queries, an event store
and repository for the write side, and its projections (hosted by shared/hosting.py).

    routes = Routes("ratings")                                   # shared/routes.py

    @routes.command("record_score", reply=ScoreRecorded)
    async def on_record_score(ctx: Context, cmd: RecordScore) -> dict: ...

    service = Service(routes, projections=[StarsProjection])     # one per running instance

`from shared.service import Context, Routes, Service` is the public entry. Each request is validated once,
as `Request[<the handler's payload model>]`; handlers return a reply via ok(); a raised DomainError or
pydantic ValidationError becomes an error reply, never an unhandled exception. The AsyncAPI document
(built from `build_broker`) shows each subject's payload and, as a "<subject>:reply" channel, its reply.
"""
from __future__ import annotations

import asyncio
import contextlib
import os
import re
import socket
import time
from typing import Any, TypeVar

import structlog
from faststream.nats import NatsBroker
from pydantic import ValidationError
from sqlalchemy import Engine

from shared import bus, jobs
from shared.aggregate import Repository
from shared.auth import ANONYMOUS, PROVINCE_READERS, InvalidToken, TokenVerifier
from shared.db import make_engine
from shared.envelope import MalformedEvent
from shared.errors import DomainError, FieldError, forbidden
from shared.eventstore import CountyNotFound, Durability, EventStore, LogUnavailable
from shared.hosting import ProjectionHost
from shared.ids import PLATFORM, new_id
from shared.deadline import late
from shared.metrics import REQUEST_SECONDS, REQUESTS, nats_middleware, record_projections
from shared.messaging import COUNTY_ADDED, Reply, encode, failed, health_subject, ok, validation_error
from shared.pipeline import Pipeline
from shared.projection import Projection
from shared.projection_runner import ProjectionRunner
from shared.provisioning import request_county_stream
from shared.rebuild import RebuildProjection, Rebuilt
from shared.routes import Context, Reaction, Route, Routes
from shared.settings import Settings, nats_servers
from shared.signing import Signer

__all__ = ["Context", "Routes", "Service"]
log = structlog.get_logger(__name__)
P = TypeVar("P", bound=Projection)


class Service:
    def __init__(self, routes: Routes, projections: list[type[Projection]] = (), workers: int = 256):
        self.name = routes.service
        self.projection_types = list(projections)
        self.workers = workers
        self.broker: NatsBroker | None = None
        self.routes = [*routes.routes, Route("cmd", "rebuild", self._on_rebuild, RebuildProjection, Rebuilt, job=True)]
        self._reactions = routes.reactions
        self._writes = routes.writes
        self.host = ProjectionHost(self.name, self.projection_types)
        self.nc = None
        self.store: EventStore | None = None
        self.repo: Repository | None = None
        self.engine: Engine | None = None
        self.settings: Settings | None = None
        self.verifier: TokenVerifier | None = None
        self._metrics_task: asyncio.Task | None = None
        self.pipeline = Pipeline(self._dispatch_in_time, encode, workers)
        self.running_jobs: set[asyncio.Task] = set()  # requests answered with a job id, still at work

    @property
    def subjects(self) -> list[str]:
        """Every subject this service answers (listed in its README and AsyncAPI)."""
        return [f"pb.*.{r.kind}.{self.name}.{r.name}" for r in self.routes]

    # -- the projections, hosted ----------------------------------------------------------------
    @property
    def runners(self) -> dict[tuple[str, str], ProjectionRunner]:
        return self.host.runners

    @property
    def standby(self) -> dict[tuple[str, str], ProjectionRunner]:
        return self.host.standby

    def projection(self, ptype: type[P]) -> P:
        return self.host.projection(ptype)

    async def attach_county(self, county: str) -> None:
        await self.host.attach_county(county)

    async def caught_up(self, county: str, seq: int | None, projection: str | None = None) -> None:
        await self.host.caught_up(county, seq, projection)

    async def rebuild(self, county: str, ptype: type[Projection]) -> dict:
        return await self.host.rebuild(county, ptype)

    # -- running -----------------------------------------------------------------------------
    async def start(self, nats_url: str, settings: Settings) -> None:
        self.settings = settings
        self.workers = self.pipeline.limit = settings.handler_concurrency
        self.verifier = TokenVerifier(settings.verify_key(), settings.max_token_ttl)
        self.nc = await bus.connect(settings, settings.nats_user or self.name, nats_url)
        self.store = EventStore(self.nc, Durability(replicas=settings.stream_replicas), provisioner=request_county_stream,
                                name=self.name)
        signer = Signer.load(settings.credentials_path, self.name) if self._writes else None
        self.repo = Repository(self.store, retries=settings.command_retries, signer=signer)
        self.engine = make_engine(settings.database_url_for(self.name))
        host = re.sub(r"[^A-Za-z0-9_-]", "_", socket.gethostname())
        self.instance = f"{self.name}-{host}-{os.getpid()}-{new_id()[-8:]}"  # subject-safe: rebuilds are forwarded to it
        self.build_broker(nats_url)
        await self.host.open(self.nc, self.engine, settings, self.instance)
        self.store.authenticator = self.host.authenticator
        await self.broker.start()
        await self.nc.subscribe(COUNTY_ADDED, cb=self._on_county_added)
        await self.nc.subscribe(health_subject(self.name), cb=self._on_health)
        for context in self._writes:  # another instance's appends drop our cached aggregates
            await self.nc.subscribe(f"pb.*.evt.{context}.>", cb=self.repo.on_stored)
        # renew from the start: attaching hundreds of counties on a busy machine can outlast the lease TTL,
        # and a lease taken early in the loop would expire (and pass to a standby) before it was renewed
        self.host.keep_leases()
        for county in await self.store.list_counties():
            await self.attach_county(county)
        if settings.metrics_port:
            self._metrics_task = asyncio.create_task(self._refresh_projection_metrics(), name=f"metrics:{self.name}")
        log.info("service.started", service=self.name, subjects=len(self.routes))

    async def _refresh_projection_metrics(self, every_s: float = 5.0) -> None:
        """Position, lag, error and role of each (projection, county) into the gauges (lag needs the
        stream's figures, so they are refreshed here rather than on each batch)."""
        while True:
            try:
                record_projections(self.name, await self.host.health())
            except Exception as exc:  # NATS briefly unavailable: the next round
                log.warning("metrics.refresh_failed", service=self.name, error=str(exc))
            await asyncio.sleep(every_s)

    def build_broker(self, nats_url: str) -> NatsBroker:
        """The FastStream broker with every command and query subscribed (also what the AsyncAPI
        document is generated from, without connecting)."""
        # apply_types=False: handler annotations document payloads (AsyncAPI), but FastStream neither
        # validates nor injects: dispatch validates each request once and answers a refusal as a reply
        credentials = bus.broker_options(self.settings, self.settings.nats_user or self.name) if self.settings else {}
        # handler metrics (FastStream's Prometheus middleware) where a status port serves them
        metered = nats_middleware(self.name) if self.settings and self.settings.metrics_port else ()
        self.broker = NatsBroker(nats_servers(nats_url), logger=None, graceful_timeout=5, apply_types=False,
                                 middlewares=metered, **credentials)
        if self.settings is None or self.settings.serve_requests:
            for route in self.routes:
                self._subscribe(route)
        for subjects, fn in self._reactions:
            self._react(subjects, fn)
        return self.broker

    def _react(self, subjects: str, fn: Reaction) -> None:
        service = self

        async def reaction(body: dict) -> None:
            subject = service.broker.context.get_local("message").raw_message.subject
            try:
                await fn(service, subject.split(".", 2)[1], body)
            except Exception:  # a cache reaction never takes the service down
                log.exception("reaction.failed", service=service.name, subject=subject)

        reaction.__name__ = fn.__name__
        # no_reply: a JetStream publish is a request on this very subject; only the server may answer it
        self.broker.subscriber(f"pb.*.evt.{subjects}", max_workers=self.workers, no_reply=True,
                               title=f"{self.name}.reaction.{fn.__name__}",
                               description=fn.__doc__)(reaction)

    def _subscribe(self, route: Route) -> None:
        service = self

        async def handler(body) -> None:
            # the subject's county token, read from FastStream's context: a Path()/Context() parameter
            # would make fast_depends resolve it in a worker thread on every message (measured); the
            # answer is started and replied by the pipeline (shared/pipeline.py), not awaited here
            msg = service.broker.context.get_local("message").raw_message
            await service.pipeline.submit(msg.subject.split(".", 2)[1], body, route, msg)

        subject, title = f"pb.*.{route.kind}.{self.name}.{route.name}", f"{self.name}.{route.kind}.{route.name}"
        reply = Reply[route.reply or dict[str, Any]]
        handler.__name__ = f"on_{route.name}"
        handler.__doc__ = route.fn.__doc__
        handler.__annotations__ = {"body": route.request_model, "return": reply}
        # one ordered worker, no FastStream reply: the pipeline's task answers on the reply subject
        self.broker.subscriber(subject, queue=self.name, no_reply=True, title=title,
                               description=route.fn.__doc__)(handler)
        # the answer, for the AsyncAPI document only (never published through: it goes to the request's
        # reply inbox): a "send" operation whose message is the reply envelope with its typed data
        self.broker.publisher(subject, title=f"{title}:reply", schema=reply,
                              description=f"the answer to {subject}, sent to the request's reply subject")

    async def dispatch(self, county: str, body: Any, route: Route) -> dict:
        """Answers one request; its outcome (ok or the error code) and time go to the metrics, and the
        caller's correlation id onto every log line written meanwhile."""
        cid = body.get("correlation_id") if isinstance(body, dict) else None
        begun = time.perf_counter()
        with structlog.contextvars.bound_contextvars(correlation_id=cid, county=county):
            reply = await self._answer(county, body, route)
        answered = reply if isinstance(reply, dict) else {}
        outcome = "ok" if answered.get("ok") else str((answered.get("error") or {}).get("code", "error"))
        REQUESTS.labels(self.name, route.kind, route.name, outcome).inc()
        REQUEST_SECONDS.labels(self.name, route.kind, route.name).observe(time.perf_counter() - begun)
        return reply

    async def _dispatch_in_time(self, county: str, body: Any, route: Route) -> dict | None:
        """dispatch, unless the requester stopped waiting (shared/deadline.py): None = send no reply."""
        if late(self.name, body, route.kind, route.name, "queued"):
            return None
        reply = await self.dispatch(county, body, route)
        return None if late(self.name, body, route.kind, route.name, "answered") else reply

    async def _answer(self, county: str, body: Any, route: Route) -> dict:
        fn = route.fn
        if route.job and isinstance(body, dict) and body.get("as_job"):  # answered at once, runs on
            return await jobs.start(self, county, body, route, self._answer)
        try:
            if isinstance(body, dict) and route.payload is None:
                body.setdefault("data", {})
            req = route.request_model.model_validate(body)
            if route.public:  # sign-in and the like: the payload proves who it is; platform subject only
                if county != PLATFORM:
                    raise forbidden("public subjects are answered on pb.platform only")
                ctx = Context(county, ANONYMOUS, body["data"], None, req.correlation_id, self)
                return await fn(ctx, req.data)
            actor = self.verifier.actor(req.token)  # the actor is the one the caller's token names
            if not (actor.covers(county) or county == PLATFORM and actor.role in PROVINCE_READERS
                    if route.province else actor.in_county(county)):
                raise forbidden(f"无权访问县 {county} / token is not valid for county {county}")
            if route.payload is None:
                ctx = Context(county, actor, req.data, req.min_seq, req.correlation_id, self)
                return await fn(ctx)
            ctx = Context(county, actor, body["data"], req.min_seq, req.correlation_id, self)
            return await fn(ctx, req.data)
        except DomainError as exc:
            return failed(exc)
        except ValidationError as exc:
            return failed(validation_error(exc))
        except InvalidToken as exc:
            return failed(DomainError("unauthenticated", f"身份令牌无效 / invalid token: {exc}", 401))
        except MalformedEvent as exc:  # e.g. a rebuild stopped at an event it cannot decode
            return failed(DomainError("poisoned_event", f"事件无法解码 / {exc}", 409))
        except (LogUnavailable, TimeoutError):  # (nats' too) the client retries: the command may be in the log
            return failed(DomainError("log_unavailable", "事件日志暂不可用，请用同一幂等键重试 / the county's event log "
                                      "did not answer (a cluster election); retry with the same idempotency key", 503))
        except CountyNotFound:
            return failed(DomainError("county_not_found", f"县 {county} 未开通 / county {county} is not set up", 404))
        except Exception:  # a bug: logged with its traceback, answered as 500 without internals
            log.exception("handler.failed", service=self.name, county=county, handler=fn.__name__)
            return failed(DomainError("internal_error", "内部错误，已记录 / internal error (logged)", 500))

    async def stop(self) -> None:
        if self._metrics_task:
            self._metrics_task.cancel()
        await self.pipeline.drain(timeout=5)  # answers in flight still reply
        await self.host.close()
        if self.broker:
            with contextlib.suppress(Exception):
                await self.broker.stop()
        if self.nc:
            with contextlib.suppress(Exception):
                await self.nc.drain()
        if self.engine:
            self.engine.dispose()

    async def _on_county_added(self, msg) -> None:
        await self.attach_county(msg.data.decode())

    async def health(self) -> dict[str, Any]:
        projections = await self.host.health()
        healthy = all("error" not in p for p in projections)
        appends = self.store.group_commit_figures() if self.store else {}
        return {"service": self.name, "instance": self.instance, "status": "ok" if healthy else "degraded",
                "projections": projections,
                "group_commit": appends, "checked_at": time.time()}

    async def _on_health(self, msg) -> None:
        await msg.respond(encode(await self.health()))

    async def _on_rebuild(self, ctx: Context, cmd: RebuildProjection) -> dict:
        """Rebuild one of this service's projections for the county into fresh tables and swap it in."""
        ctx.require_county_department("只有县委组织部可以重建读模型 / only the county department rebuilds read-models")
        ptype = next((p for p in self.projection_types if p.name == cmd.projection), None)
        if ptype is None:
            known = ", ".join(p.name for p in self.projection_types) or "none"
            raise DomainError("unknown_projection", f"unknown projection {cmd.projection!r}; this service has: {known}",
                              422, [FieldError("projection", f"one of: {known}")])
        return ok(Rebuilt.model_validate(await self.rebuild(ctx.county, ptype)))
