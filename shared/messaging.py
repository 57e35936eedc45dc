"""The request/reply protocol between the gateway and the services.

Subjects:  pb.<county>.cmd.<service>.<command>   pb.<county>.qry.<service>.<query>
Request:   {"token": "<the caller's bearer token>", "data": {...}, "min_seq": int | null, "correlation_id": str}
Reply:     {"ok": true, "data": {...}, "seq": int}  |  {"ok": false, "error": {code, detail, status, errors}}
"""
from __future__ import annotations

import asyncio
from typing import Any, Generic, TypeVar

import orjson
from pydantic import BaseModel, ConfigDict, Field

from shared.errors import DomainError, FieldError

COUNTY_ADDED = "pb.platform.county_added"


def health_subject(service: str) -> str:
    return f"pb.platform.health.{service}"


async def health_of_every_instance(nc, service: str, wait_s: float = 0.3) -> list[dict]:
    """The health of every running instance of a service (a request would take only the first answer)."""
    inbox, replies = nc.new_inbox(), []

    async def collect(msg) -> None:
        replies.append(orjson.loads(msg.data))

    sub = await nc.subscribe(inbox, cb=collect)
    await nc.publish(health_subject(service), b"", reply=inbox)
    await asyncio.sleep(wait_s)
    await sub.unsubscribe()
    return replies


P = TypeVar("P")


class Request(BaseModel, Generic[P]):
    """What the gateway sends. `Request[RecordScore]` types `data` for one subject: the service
    validates the whole request once, and the AsyncAPI document shows the payload's fields."""

    model_config = ConfigDict(extra="forbid")
    token: str = Field(min_length=1, max_length=8192,
                       description="the caller's bearer token (EdDSA JWT) as the gateway received it; the service "
                                   "verifies it and acts for the actor it names, with that actor's scope")
    data: P = Field(description="the command or query")
    min_seq: int | None = Field(None, ge=0, le=2**63 - 1,
                                description="read-your-writes: answer once the read-model reached it")
    correlation_id: str | None = Field(None, description="carried into every event the request causes")
    as_job: bool = Field(False, description="long work (a route declared job=True): answer at once with a job "
                                            "id; state, progress and result in the job registry (shared/jobs.py)")
    deadline: float | None = Field(None, description="when the requester stops waiting (seconds since the epoch): "
                                                     "a service drops the request rather than answer later")


class PublicRequest(BaseModel, Generic[P]):
    """What the gateway sends to a public subject (sign-in, password change): the request proves who
    it is by what it carries (a login and password), so it has no token."""

    model_config = ConfigDict(extra="forbid")
    data: P = Field(description="the command")
    correlation_id: str | None = Field(None, description="carried into every event the request causes")
    deadline: float | None = Field(None, description="when the requester stops waiting (seconds since the epoch)")


class ErrorBody(BaseModel):
    code: str = Field(description="stable error code, e.g. invalid_input, forbidden, conflict")
    detail: str = Field(description="for people: Chinese / English")
    status: int = Field(description="the HTTP status the gateway answers with")
    errors: list[dict[str, str]] = Field(default_factory=list, description="[{field, message}]")


class Reply(BaseModel, Generic[P]):
    """What a service answers: {"ok": true, "data": ..., "seq": n} or {"ok": false, "error": ...}."""

    ok: bool = Field(description="true: `data` (and `seq`) hold the answer; false: `error` says why not")
    data: P | None = Field(None, description="the result (when ok)")
    seq: int = Field(0, description="stream sequence of the last event written (commands), for read-your-writes")
    error: ErrorBody | None = Field(None, description="why it was refused (when not ok)")


def command_subject(county: str, service: str, name: str) -> str:
    return f"pb.{county}.cmd.{service}.{name}"


def query_subject(county: str, service: str, name: str) -> str:
    return f"pb.{county}.qry.{service}.{name}"


def ok(data: Any = None, seq: int = 0) -> dict[str, Any]:
    if isinstance(data, BaseModel):
        data = data.model_dump(mode="json")
    return {"ok": True, "data": data if data is not None else {}, "seq": seq}


def failed(error: DomainError) -> dict[str, Any]:
    return {"ok": False, "error": error.to_dict()}


def validation_error(exc: Any) -> DomainError:
    """pydantic.ValidationError → 422 with one field message per problem."""
    errors = [FieldError(".".join(str(p) for p in _payload_loc(e["loc"])) or "body", e["msg"]) for e in exc.errors()]
    return DomainError("invalid_input", "输入有误 / invalid input", 422, errors)


def _payload_loc(loc: tuple) -> tuple:
    """A Request[P] error inside the payload is named by the payload's field ("points", not "data.points")."""
    return loc[1:] if loc[:1] == ("data",) and len(loc) > 1 else loc


def encode(obj: Any) -> bytes:
    return orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS)


async def stop_task(task: asyncio.Task) -> None:
    """Cancel a background task and wait until it has ended, cancelling again if a cancellation was lost
    (on Python 3.11 a library's wait_for can swallow one that arrives as its awaitable completes): a stop
    that waited on a task still running would hang for ever. Unlike awaiting it under suppress(), a
    caller that is itself cancelled meanwhile stays cancelled."""
    while not task.done():
        task.cancel()
        await asyncio.wait([task], timeout=1.0)
