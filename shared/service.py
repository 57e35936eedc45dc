"""The shape every service shares: a FastStream broker answering commands and queries, an event
store and repository for the write side, and projection runners for its read-models.

    routes = Routes("ratings")

    @routes.command("record_score", reply=ScoreRecorded)
    async def on_record_score(ctx: Context, cmd: RecordScore) -> dict: ...

    service = Service(routes, projections=[StarsProjection])   # one per running instance

A handler receives a Context (county, actor, runtime) and, when it declares a second parameter, its
payload already validated as that parameter's Pydantic model: the whole request is validated once, as
`Request[RecordScore]`, and the AsyncAPI document shows the payload's fields (and `reply`'s).
Handlers with only a Context read `ctx.data` (a dict). They return a reply via ok(); a raised
DomainError or pydantic ValidationError becomes an error reply, never an unhandled exception.
"""
from __future__ import annotations

import asyncio
import contextlib
import inspect
import os
import re
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, get_type_hints

import orjson
import structlog
from faststream.nats import NatsBroker
from pydantic import BaseModel, ValidationError
from sqlalchemy import Engine

from shared import bus
from shared.aggregate import Repository
from shared.auth import COUNTY_DEPARTMENT, Actor, InvalidToken, TokenVerifier
from shared.db import make_engine
from shared.envelope import MalformedEvent
from shared.errors import DomainError, FieldError, forbidden
from shared.eventstore import CountyNotFound, Durability, EventStore
from shared.ids import new_id
from shared.leases import Leases
from shared.messaging import (COUNTY_ADDED, Reply, Request, encode, failed, health_subject, ok, stop_task,
                              validation_error)
from shared.projection import Projection, ProjectionRunner, rebuild_county
from shared.provisioning import request_county_stream
from shared.settings import Settings

log = structlog.get_logger(__name__)


def lease_key(projection: str, county: str) -> str:
    return f"{projection}.{county}"


def rebuild_subject(instance: str) -> str:
    """Where one instance takes rebuilds forwarded by its standbys (only the owner may swap)."""
    return f"pb.platform.rebuild.{instance.split('-', 1)[0]}.{instance}"  # per service: see shared/natsconf.py


Handler = Callable[..., Awaitable[dict[str, Any]]]  # (ctx) or (ctx, payload: <Pydantic model>)
Reaction = Callable[["Service", str, dict[str, Any]], Awaitable[None]]  # (service, county, envelope)


@dataclass
class Context:
    county: str
    actor: Actor
    data: dict[str, Any]
    min_seq: int | None
    correlation_id: str | None
    service: "Service"

    @property
    def meta(self):
        return self.actor.metadata(self.correlation_id)

    def require_write(self) -> None:
        if not self.actor.can_write:
            raise forbidden("审计角色只读 / auditors have read-only access")

    def require_county_department(
            self, detail: str = "只有县委组织部可以执行此操作 / only the county organization department may do this") -> None:
        self.require_write()
        if self.actor.role not in COUNTY_DEPARTMENT:
            raise forbidden(detail)


class Routes:
    """The commands and queries one service answers, declared at import time (like a FastStream
    NatsRouter); each running Service instance subscribes them."""

    def __init__(self, service: str, writes: tuple[str, ...] = ()):
        self.service = service
        self.writes = writes  # contexts of the aggregates its commands append to (e.g. "ratings", "org")
        self._routes: list[Route] = []
        self._reactions: list[tuple[str, Reaction]] = []

    def command(self, name: str, reply: type[BaseModel] | None = None) -> Callable[[Handler], Handler]:
        """Answer `pb.<county>.cmd.<service>.<name>`; `reply` documents the data of a successful answer."""
        return self._route("cmd", name, reply)

    def query(self, name: str, reply: Any = None) -> Callable[[Handler], Handler]:
        return self._route("qry", name, reply)

    def reaction(self, subjects: str) -> Callable[[Reaction], Reaction]:
        """Every instance sees every event on `pb.<county>.evt.<subjects>` as it is stored (core NATS,
        no queue group, not durable): for in-memory caches, never for state that must not miss one."""
        def register(fn: Reaction) -> Reaction:
            self._reactions.append((subjects, fn))
            return fn
        return register

    def _route(self, kind: str, name: str, reply: Any) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            self._routes.append(Route(kind, name, fn, payload_model(fn), reply))
            return fn
        return register

    def add(self, kind: str, name: str, fn: Handler, reply: Any = None) -> None:
        """The same as the decorators, for a handler map written out as a table."""
        self._route(kind, name, reply)(fn)


@dataclass(frozen=True)
class Route:
    kind: str                       # "cmd" | "qry"
    name: str
    fn: Handler
    payload: type[BaseModel] | None  # the handler's second parameter, if it has one
    reply: Any

    @property
    def request_model(self) -> type[BaseModel]:
        return Request[self.payload] if self.payload else Request[dict[str, Any]]


def payload_model(fn: Handler) -> type[BaseModel] | None:
    """The Pydantic model of a handler's second parameter (its payload), or None for ctx-only handlers."""
    params = list(inspect.signature(fn).parameters.values())
    if len(params) < 2:
        return None
    model = get_type_hints(fn).get(params[1].name)
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        raise TypeError(f"{fn.__qualname__}: the payload parameter {params[1].name!r} needs a Pydantic model type")
    return model


class Service:
    def __init__(self, routes: Routes, projections: list[type[Projection]] = (), workers: int = 256):
        self.name = routes.service
        self.projection_types = list(projections)
        self.workers = workers
        self.broker: NatsBroker | None = None
        self._routes = routes._routes
        self._reactions = routes._reactions
        self._writes = routes.writes
        self.runners: dict[tuple[str, str], ProjectionRunner] = {}   # the projections this instance runs
        self.standby: dict[tuple[str, str], ProjectionRunner] = {}   # run by another instance (not started)
        self.leases: Leases | None = None
        self._lease_task: asyncio.Task | None = None
        self.nc = None
        self.store: EventStore | None = None
        self.repo: Repository | None = None
        self.engine: Engine | None = None
        self.settings: Settings | None = None
        self.verifier: TokenVerifier | None = None
        self._county_lock = asyncio.Lock()
        self._projections: dict[type[Projection], Projection] = {}

    @property
    def subjects(self) -> list[str]:
        """Every subject this service answers (listed in its README and AsyncAPI)."""
        return [f"pb.*.{r.kind}.{self.name}.{r.name}" for r in self._routes]

    # -- running -----------------------------------------------------------------------------
    async def start(self, nats_url: str, settings: Settings) -> None:
        self.settings = settings
        self.workers = settings.handler_concurrency
        self.verifier = TokenVerifier(settings.verify_key(), settings.max_token_ttl)
        self.nc = await bus.connect(settings, settings.nats_user or self.name, nats_url)
        self.store = EventStore(self.nc, Durability(replicas=settings.stream_replicas), provisioner=request_county_stream)
        self.repo = Repository(self.store, retries=settings.command_retries)
        self.engine = make_engine(settings.database_url_for(self.name))
        host = re.sub(r"[^A-Za-z0-9_-]", "_", socket.gethostname())
        self.instance = f"{self.name}-{host}-{os.getpid()}-{new_id()[-8:]}"  # subject-safe: rebuilds are forwarded to it
        self.leases = Leases(self.nc.jetstream(), self.instance, settings.lease_ttl_s, settings.stream_replicas,
                             provisioned_within_s=60)  # created by the provisioner (shared/provisioning.py)
        await self.leases.open()
        self.build_broker(nats_url)
        await self.broker.start()
        await self.nc.subscribe(COUNTY_ADDED, cb=self._on_county_added)
        await self.nc.subscribe(health_subject(self.name), cb=self._on_health)
        await self.nc.subscribe(rebuild_subject(self.instance), cb=self._on_forwarded_rebuild)
        for context in self._writes:  # another instance's appends drop our cached aggregates
            await self.nc.subscribe(f"pb.*.evt.{context}.>", cb=self.repo.on_stored)
        for county in await self.store.list_counties():
            await self.attach_county(county)
        self._lease_task = asyncio.create_task(self._keep_leases(), name=f"leases:{self.name}")
        log.info("service.started", service=self.name, subjects=len(self._routes))

    def build_broker(self, nats_url: str) -> NatsBroker:
        """The FastStream broker with every command and query subscribed (also what the AsyncAPI
        document is generated from, without connecting)."""
        # apply_types=False: handler annotations document payloads (AsyncAPI), but FastStream neither
        # validates nor injects: dispatch validates each request once and answers a refusal as a reply
        credentials = bus.broker_options(self.settings, self.settings.nats_user or self.name) if self.settings else {}
        self.broker = NatsBroker(nats_url, logger=None, graceful_timeout=5, apply_types=False, **credentials)
        if self.settings is None or self.settings.serve_requests:
            for route in [*self._routes, Route("cmd", "rebuild", self._on_rebuild, None, None)]:
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

        async def handler(body):
            # the subject's county token, read from FastStream's context: a Path()/Context() parameter
            # would make fast_depends resolve it in a worker thread on every message (measured)
            subject = service.broker.context.get_local("message").raw_message.subject
            return await service.dispatch(subject.split(".", 2)[1], body, route)

        handler.__name__ = f"on_{route.name}"
        handler.__doc__ = route.fn.__doc__
        handler.__annotations__ = {"body": route.request_model, "return": Reply[route.reply or dict[str, Any]]}
        self.broker.subscriber(f"pb.*.{route.kind}.{self.name}.{route.name}", queue=self.name,
                               max_workers=self.workers, title=f"{self.name}.{route.kind}.{route.name}",
                               description=route.fn.__doc__)(handler)

    async def dispatch(self, county: str, body: Any, route: Route) -> dict:
        fn = route.fn
        try:
            if isinstance(body, dict) and route.payload is None:
                body.setdefault("data", {})
            req = route.request_model.model_validate(body)
            actor = self.verifier.actor(req.token)  # the actor is the one the caller's token names
            if not actor.in_county(county):
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
        except CountyNotFound:
            return failed(DomainError("county_not_found", f"县 {county} 未开通 / county {county} is not set up", 404))
        except Exception:  # a bug: logged with its traceback, answered as 500 without internals
            log.exception("handler.failed", service=self.name, county=county, handler=fn.__name__)
            return failed(DomainError("internal_error", "内部错误，已记录 / internal error (logged)", 500))

    async def stop(self) -> None:
        if self._lease_task:
            await stop_task(self._lease_task)
        for (name, county), runner in list(self.runners.items()):
            await runner.stop()
            if self.leases:
                await self.leases.release(lease_key(name, county))  # a standby takes over at once
        if self.broker:
            with contextlib.suppress(Exception):
                await self.broker.stop()
        if self.nc:
            with contextlib.suppress(Exception):
                await self.nc.drain()
        if self.engine:
            self.engine.dispose()

    # -- counties and projections ------------------------------------------------------------
    async def _on_county_added(self, msg) -> None:
        await self.attach_county(msg.data.decode())

    async def attach_county(self, county: str) -> None:
        """Run each of this service's projections for the county here, unless another instance
        holds its lease (then it waits here as a standby)."""
        async with self._county_lock:
            for ptype in self.projection_types:
                key = (ptype.name, county)
                if key not in self.runners and key not in self.standby:
                    await self._take_or_wait(key, ProjectionRunner(self.nc, self.engine, self.projection(ptype), county))

    async def _take_or_wait(self, key: tuple[str, str], runner: ProjectionRunner) -> None:
        if self.settings.run_projections and await self.leases.hold(lease_key(*key)):
            self.standby.pop(key, None)
            runner = ProjectionRunner(self.nc, self.engine, runner.projection, runner.county)  # no state of a past run
            await runner.start()
            self.runners[key] = runner
            log.info("projection.owned", service=self.name, projection=key[0], county=key[1])
        else:
            self.standby[key] = runner

    async def _keep_leases(self) -> None:
        """Renew what we run (stop what we lost), take over what nobody renews any more."""
        while True:
            await asyncio.sleep(self.settings.lease_ttl_s / 3)
            try:
                async with self._county_lock:
                    for key, runner in list(self.runners.items()):
                        if not await self.leases.hold(lease_key(*key)):
                            log.warning("projection.lease_lost", service=self.name, projection=key[0], county=key[1])
                            await runner.stop()
                            del self.runners[key]
                            self.standby[key] = runner
                    for key, runner in list(self.standby.items()):
                        await self._take_or_wait(key, runner)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # NATS briefly unavailable: try again next round
                log.warning("projection.lease_round_failed", service=self.name, error=str(exc))

    def projection(self, ptype: type[Projection]) -> Projection:
        """The live instance of a projection type (shared by all counties' runners)."""
        if ptype not in self._projections:
            self._projections[ptype] = ptype()
        return self._projections[ptype]

    async def caught_up(self, county: str, seq: int | None, projection: str | None = None) -> None:
        """Read-your-writes: wait (bounded) until this county's projections reached `seq`."""
        if not seq:
            return
        await self.attach_county(county)  # waits for an attach in progress (a county added a moment ago)
        timeout = self.settings.read_your_writes_timeout_s if self.settings else 5.0
        for (name, c), runner in [*self.runners.items(), *self.standby.items()]:
            if c == county and (projection is None or name == projection):
                reached = await (runner.wait_for(seq, timeout) if (name, c) in self.runners
                                 else runner.wait_for_elsewhere(seq, timeout))
                if not reached:
                    raise DomainError("read_model_lagging",
                                      f"读模型尚未更新到 {seq}，请稍后重试 / read-model has not reached sequence {seq} yet", 503)

    async def rebuild(self, county: str, ptype: type[Projection]) -> dict:
        if (ptype.name, county) in self.standby:  # the owner rebuilds: it pauses its live runner for the swap
            return await self._forward_rebuild(county, ptype)
        live = self.runners.get((ptype.name, county))
        return await rebuild_county(self.nc, self.engine, ptype, county, live=live)

    async def _forward_rebuild(self, county: str, ptype: type[Projection]) -> dict:
        holder = await self.leases.holder_of(lease_key(ptype.name, county))
        if holder is None:
            raise DomainError("projection_unowned", f"{ptype.name} of {county} has no running instance right now; "
                              "try again in a few seconds", 503)
        msg = await self.nc.request(rebuild_subject(holder), orjson.dumps({"county": county, "projection": ptype.name}),
                                    timeout=3600)
        reply = orjson.loads(msg.data)
        if not reply.get("ok"):
            raise DomainError.from_dict(reply["error"])
        return reply["data"]

    async def _on_forwarded_rebuild(self, msg) -> None:
        body = orjson.loads(msg.data)
        ptype = next((p for p in self.projection_types if p.name == body.get("projection")), None)
        try:
            if ptype is None or (ptype.name, body.get("county")) not in self.runners:
                raise DomainError("projection_runs_elsewhere", "this instance no longer runs that projection", 409)
            reply = ok(await self.rebuild(body["county"], ptype))
        except DomainError as exc:
            reply = failed(exc)
        except Exception as exc:  # reported to the forwarding instance, which answers the client
            log.exception("rebuild.failed", service=self.name, county=body.get("county"))
            reply = failed(DomainError("rebuild_failed", f"重建失败 / rebuild failed: {exc}", 500))
        await msg.respond(encode(reply))

    async def health(self) -> dict[str, Any]:
        projections = []
        for (name, county), runner in list(self.runners.items()):
            lag = None
            if runner.error is None:
                with contextlib.suppress(Exception):
                    lag = await runner.pending()
            projections.append({**runner.status(lag), "role": "active"})
        for (name, county), runner in list(self.standby.items()):
            status = {"projection": name, "county": county, "role": "standby"}
            with contextlib.suppress(Exception):
                status["lag"] = await runner.pending()
                status["checkpoint"] = await runner.persisted_checkpoint()
            projections.append(status)
        healthy = all("error" not in p for p in projections)
        appends = self.store.group_commit_figures() if self.store else {}
        return {"service": self.name, "status": "ok" if healthy else "degraded", "projections": projections,
                "group_commit": appends, "checked_at": time.time()}

    async def _on_rebuild(self, ctx: Context) -> dict:
        """Rebuild one of this service's projections for the county into fresh tables and swap it in."""
        ctx.require_county_department("只有县委组织部可以重建读模型 / only the county department rebuilds read-models")
        name = str(ctx.data.get("projection", ""))
        ptype = next((p for p in self.projection_types if p.name == name), None)
        if ptype is None:
            known = ", ".join(p.name for p in self.projection_types) or "none"
            raise DomainError("unknown_projection", f"unknown projection {name!r}; this service has: {known}", 422,
                              [FieldError("projection", f"one of: {known}")])
        return ok(await self.rebuild(ctx.county, ptype))

    async def _on_health(self, msg) -> None:
        await msg.respond(encode(await self.health()))
