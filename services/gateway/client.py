"""The gateway's only way to reach the services: NATS request/reply (shared/messaging.py protocol).

Every failure becomes a DomainError so the HTTP layer has one thing to turn into problem+json: a
refusal from a service keeps its code/status/field errors; no responder or no answer in time is a
503 (the service is down or overloaded, never a 500 of the gateway).
"""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import orjson
from nats import errors as nats_errors

from shared.auth import Actor
from shared.errors import DomainError
from shared.ids import PLATFORM
from shared.messaging import command_subject, encode, health_subject, query_subject

HEALTH_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class Reply:
    data: Any
    seq: int


def unavailable(detail: str) -> DomainError:
    return DomainError("service_unavailable", detail, 503)


class ServiceClient:
    """Commands and queries over a connected nats-py client. Subclasses may override `request`
    (the raw transport) to answer without a broker, e.g. in unit tests of the HTTP edge."""

    def __init__(self, nc: Any, timeout: float = 10.0):
        self.nc = nc
        self.timeout = timeout

    async def command(self, county: str, service: str, name: str, actor: Actor, data: dict[str, Any],
                      correlation_id: str | None = None, timeout: float | None = None, as_job: bool = False) -> Reply:
        """`timeout`: longer than the default for a command carrying many entries (record_scores).
        `as_job`: long work (a route declared job=True) answers at once with a job id (shared/jobs.py)."""
        timeout = timeout or self.timeout
        body = self._body(actor, data, None, correlation_id, timeout, as_job)
        return self._unwrap(await self._call(command_subject(county, service, name), body, timeout,
                                             f"{service}.{name}", write=True))

    async def query(self, county: str, service: str, name: str, actor: Actor, data: dict[str, Any],
                    min_seq: int | None = None, correlation_id: str | None = None) -> Reply:
        body = self._body(actor, data, min_seq, correlation_id, self.timeout)
        return self._unwrap(await self._call(query_subject(county, service, name), body, self.timeout,
                                             f"{service}.{name}", write=False))

    async def public(self, service: str, name: str, data: dict[str, Any], correlation_id: str | None = None) -> Reply:
        """A public command (sign-in, password change) on the platform subject: no token."""
        body = encode({"data": data, "correlation_id": correlation_id, "deadline": time.time() + self.timeout})
        return self._unwrap(await self._call(command_subject(PLATFORM, service, name), body, self.timeout,
                                             f"{service}.{name}", write=True))

    async def health(self, service: str, timeout: float = HEALTH_TIMEOUT_S) -> dict[str, Any]:
        """The service's health JSON as it answers it (no ok/data envelope)."""
        reply = await self._call(health_subject(service), b"", timeout, service, write=False)
        if not isinstance(reply, dict):
            raise unavailable(f"{service} answered health with a non-object")
        return reply

    # -- transport ---------------------------------------------------------------------------
    async def request(self, subject: str, payload: bytes, timeout: float) -> bytes:
        msg = await self.nc.request(subject, payload, timeout=timeout)
        return msg.data

    @staticmethod
    def _body(actor: Actor, data: dict[str, Any], min_seq: int | None, correlation_id: str | None, timeout: float,
              as_job: bool = False) -> bytes:
        # the caller's own token: the service verifies it (it trusts no actor claim of the gateway's); the
        # deadline: when this request stops waiting, after which a service does not answer (shared/deadline.py)
        job = {"as_job": True} if as_job else {}
        try:
            return encode({"token": actor.token, "data": data, "min_seq": min_seq, "correlation_id": correlation_id,
                           "deadline": time.time() + timeout, **job})
        except orjson.JSONEncodeError:  # a number beyond 64 bits that no model bounded: refused, never a 500
            raise DomainError("invalid_input", "数值超出范围 / a number is out of range (64-bit)", 422) from None

    async def _call(self, subject: str, payload: bytes, timeout: float, what: str, write: bool) -> Any:
        try:
            raw = await self.request(subject, payload, timeout)
        except nats_errors.NoRespondersError:
            raise unavailable(f"服务 {what} 当前不可用 / no instance of {what} is running") from None
        except (nats_errors.TimeoutError, asyncio.TimeoutError):
            hint = ("; the command may still have been applied, retry with the same idempotency key"
                    if write else "")
            raise unavailable(f"服务 {what} 响应超时 / {what} did not answer within {timeout:g}s{hint}") from None
        except nats_errors.MaxPayloadError:
            limit = getattr(self.nc, "max_payload", 0) // (1024 * 1024)
            raise DomainError("payload_too_large",
                              f"请求过大，超过消息上限 {limit} MB / request exceeds the message limit of {limit} MB",
                              413) from None
        except nats_errors.Error as exc:  # connection closed, reconnecting, draining ...
            raise unavailable(f"消息总线不可用 / message bus unavailable ({type(exc).__name__})") from None
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise DomainError("bad_gateway", f"{what} answered with invalid JSON", 502) from None

    @staticmethod
    def _unwrap(reply: Any) -> Reply:
        if not isinstance(reply, dict) or "ok" not in reply:
            raise DomainError("bad_gateway", "service reply is not a {ok, ...} envelope", 502)
        if reply["ok"]:
            return Reply(reply.get("data"), int(reply.get("seq") or 0))
        try:
            error = DomainError.from_dict(reply["error"])
            error.status = int(error.status)
        except (KeyError, TypeError, ValueError):
            raise DomainError("bad_gateway", "service error reply is malformed", 502) from None
        if not 400 <= error.status <= 599:
            error.status = 500
        raise error
