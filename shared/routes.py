"""What a service answers, declared at import time: its commands, queries and reactions (like a FastStream
NatsRouter), and the Context each handler receives. The running instance (shared/service.py) subscribes
them; handlers reach it only through `ctx.service` (the Runtime below).

    routes = Routes("ratings")

    @routes.command("record_score", reply=ScoreRecorded)
    async def on_record_score(ctx: Context, cmd: RecordScore) -> dict: ...

A handler's second parameter, typed with a Pydantic model, is its payload: the whole request is validated
once, as `Request[RecordScore]` (shared/messaging.py), and the AsyncAPI document shows the payload's
fields; `reply` documents the data of a successful answer (also in AsyncAPI). Handlers with only a
Context read `ctx.data` (a dict).
"""
from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, get_type_hints

from pydantic import BaseModel
from sqlalchemy import Engine

from shared.aggregate import Repository
from shared.auth import COUNTY_DEPARTMENT, Actor
from shared.errors import forbidden
from shared.eventstore import EventStore
from shared.messaging import PublicRequest, Request
from shared.settings import Settings

P = TypeVar("P")


class Runtime(Protocol):
    """What a handler may use of the running service instance (shared/service.py's Service)."""

    name: str
    nc: Any                    # the instance's NATS connection
    store: EventStore | None
    repo: Repository | None
    engine: Engine | None      # its read-models' database
    settings: Settings | None
    runners: dict[tuple[str, str], Any]  # (projection, county) -> the runner this instance runs

    def projection(self, ptype: type[P]) -> P: ...

    async def caught_up(self, county: str, seq: int | None, projection: str | None = None) -> None: ...


Handler = Callable[..., Awaitable[dict[str, Any]]]  # (ctx) or (ctx, payload: <Pydantic model>)
Reaction = Callable[[Runtime, str, dict[str, Any]], Awaitable[None]]  # (service, county, envelope)


@dataclass
class Context:
    county: str
    actor: Actor
    data: dict[str, Any]
    min_seq: int | None
    correlation_id: str | None
    service: Runtime

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


@dataclass(frozen=True)
class Route:
    kind: str                       # "cmd" | "qry"
    name: str
    fn: Handler
    payload: type[BaseModel] | None  # the handler's second parameter, if it has one
    reply: Any                      # the data of a successful answer (a Pydantic model), if declared
    public: bool = False            # answered without a token, only on the platform subject
    province: bool = False          # a rollup: for tokens covering the county (Actor.covers), not of it
    job: bool = False               # long work: runs as a job when the request asks (shared/jobs.py)

    @property
    def request_model(self) -> type[BaseModel]:
        if self.public:
            return PublicRequest[self.payload]
        return Request[self.payload] if self.payload else Request[dict[str, Any]]


class Routes:
    """The commands, queries and reactions of one service. A service whose handlers live in several
    modules (one per bounded context) gives each module its own Routes and joins them with `include`."""

    def __init__(self, service: str, writes: tuple[str, ...] = ()):
        self.service = service
        self.writes = writes  # contexts of the aggregates its commands append to (e.g. "ratings", "org")
        self.routes: list[Route] = []
        self.reactions: list[tuple[str, Reaction]] = []

    def command(self, name: str, reply: Any = None, public: bool = False,
                job: bool = False) -> Callable[[Handler], Handler]:
        """Answer `pb.<county>.cmd.<service>.<name>`; `reply` documents the data of a successful answer.
        `public`: answered without a token, and only as `pb.platform.cmd.<service>.<name>` (sign-in).
        `job`: long work (an import): a request with `"as_job": true` is answered at once with a job id
        and runs on (shared/jobs.py); the handler reports progress with `jobs.report(done, total)`."""
        return self._route("cmd", name, reply, public, job=job)

    def query(self, name: str, reply: Any = None, province: bool = False) -> Callable[[Handler], Handler]:
        """Answer `pb.<county>.qry.<service>.<name>`; `province`: a rollup, answered to a token that covers
        the county (a province or platform admin; `pb.platform.qry…` for what spans counties)."""
        return self._route("qry", name, reply, province=province)

    def reaction(self, subjects: str) -> Callable[[Reaction], Reaction]:
        """Every instance sees every event on `pb.<county>.evt.<subjects>` as it is stored (core NATS,
        no queue group, not durable): for in-memory caches, never for state that must not miss one."""
        def register(fn: Reaction) -> Reaction:
            self.reactions.append((subjects, fn))
            return fn
        return register

    def add(self, kind: str, name: str, fn: Handler, reply: Any = None, public: bool = False,
            province: bool = False, job: bool = False) -> None:
        """The same as the decorators, for a handler map written out as a table."""
        self._route(kind, name, reply, public, province, job)(fn)

    def include(self, *others: "Routes") -> "Routes":
        """Adds the routes and reactions of other modules' Routes of the same service; returns self."""
        for other in others:
            if other.service != self.service:
                raise ValueError(f"routes of {other.service!r} cannot join service {self.service!r}")
            for route in other.routes:
                self._check_new(route.kind, route.name)
            self.routes += other.routes
            self.reactions += other.reactions
            self.writes += tuple(w for w in other.writes if w not in self.writes)
        return self

    def _route(self, kind: str, name: str, reply: Any, public: bool = False,
               province: bool = False, job: bool = False) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            self._check_new(kind, name)
            payload = payload_model(fn)
            if public and payload is None:
                raise TypeError(f"{fn.__qualname__}: a public route needs a typed payload")
            self.routes.append(Route(kind, name, fn, payload, reply, public, province, job))
            return fn
        return register

    def _check_new(self, kind: str, name: str) -> None:
        if any(r.kind == kind and r.name == name for r in self.routes):
            raise ValueError(f"{self.service}: {kind} {name!r} is declared twice")


def payload_model(fn: Handler) -> type[BaseModel] | None:
    """The Pydantic model of a handler's second parameter (its payload), or None for ctx-only handlers."""
    params = list(inspect.signature(fn).parameters.values())
    if len(params) < 2:
        return None
    model = get_type_hints(fn).get(params[1].name)
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        raise TypeError(f"{fn.__qualname__}: the payload parameter {params[1].name!r} needs a Pydantic model type")
    return model
