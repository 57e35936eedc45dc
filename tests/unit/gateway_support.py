"""The stand-in for the services in gateway unit tests: a real ServiceClient subclass answering
subjects from a dict (the HTTP edge is under test, not the services), tokens and problem checks."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from nats import errors as nats_errors

from services.gateway.client import ServiceClient
from shared.auth import Actor, issue_token, verify_token
from shared.credentials import new_signing_key_pem

SECRET = new_signing_key_pem()  # the token signing key (Ed25519 PEM) of the unit tests
COUNTY = "450503"
OTHER = "450502"
Answer = dict[str, Any] | Callable[[dict[str, Any]], dict[str, Any]]


class DictClient(ServiceClient):
    """Answers subjects from a dict; an unknown subject behaves like NATS with no responders."""

    def __init__(self, replies: dict[str, Answer] | None = None):
        super().__init__(nc=None, timeout=1.0)
        self.replies: dict[str, Answer] = replies or {}
        self.calls: list[tuple[str, dict[str, Any]]] = []

    async def request(self, subject: str, payload: bytes, timeout: float) -> bytes:
        body = orjson.loads(payload) if payload else {}
        self.calls.append((subject, body))
        if subject not in self.replies:
            raise nats_errors.NoRespondersError
        answer = self.replies[subject]
        return orjson.dumps(answer(body) if callable(answer) else answer)

    def answer(self, kind: str, name: str, data: Any = None, seq: int = 0, service: str = "organizations") -> None:
        self.replies[f"pb.{COUNTY}.{kind}.{service}.{name}"] = {"ok": True, "data": data or {}, "seq": seq}

    @property
    def last(self) -> tuple[str, dict[str, Any]]:
        subject, body = self.calls[-1]
        return subject, body["data"]


def token(role: str = "county_admin", county: str | None = COUNTY, secret: str = SECRET, **scope: Any) -> dict:
    actor = Actor(sub=f"{role}-1", role=role, county=county, **scope)
    return {"Authorization": f"Bearer {issue_token(secret, actor)}"}


def forwarded_actor(body: dict[str, Any]) -> Actor:
    """The actor of the token the gateway forwarded in a request body."""
    return verify_token(SECRET, body["token"])


def assert_problem(r, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["status"] == status and body["code"] == code
    assert body["type"].endswith("/" + code) and body["title"] and "detail" in body
    return body


def fields(body: dict) -> dict[str, str]:
    return {e["field"]: e["message"] for e in body["errors"]}
