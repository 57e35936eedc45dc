"""Outermost ASGI layer of the app: a correlation id per request (bound to every log line while it is
handled), a hard body-size cap, the access log and HTTP metrics, and the catch-all that turns a bug into
a logged 500 problem (no traceback or internals to the client)."""
from __future__ import annotations

import re
import time
import traceback
import uuid

import structlog
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.gateway.problems import internal_error, problem
from shared.metrics import HTTP_REQUESTS, HTTP_SECONDS

log = structlog.get_logger(__name__)
CORRELATION_HEADER = "x-correlation-id"
_VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def _too_large(limit: int) -> HTTPException:
    return HTTPException(413, f"请求体超过 {limit // (1024 * 1024)} MB / request body exceeds "
                              f"{limit // (1024 * 1024)} MB")


class EdgeMiddleware:
    def __init__(self, app: ASGIApp, max_body: int):
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        given = headers.get(CORRELATION_HEADER, "")
        cid = given if _VALID_ID.match(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["correlation_id"] = cid
        answered = {"status": 500}
        with structlog.contextvars.bound_contextvars(correlation_id=cid):
            begun = time.perf_counter()
            try:
                await self._handle(scope, receive, send, headers, cid, answered)
            finally:
                access(scope, answered["status"], time.perf_counter() - begun)

    async def _handle(self, scope: Scope, receive: Receive, send: Send, headers: dict[str, str], cid: str,
                      answered: dict[str, int]) -> None:
        started = False

        async def send_wrapped(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                answered["status"] = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-correlation-id", cid.encode())]
            await send(message)

        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > self.max_body:
            await problem(413, "payload_too_large", _too_large(self.max_body).detail)(scope, receive, send_wrapped)
            return
        received = 0

        async def receive_capped() -> Message:
            # Chunked bodies carry no Content-Length: count while reading.
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_body:
                raise _too_large(self.max_body)
            return message

        try:
            await self.app(scope, receive_capped, send_wrapped)
        except Exception as exc:  # noqa: BLE001 - the last line of defence, logged with traceback
            # A plain traceback string: rich's dev renderer with locals of a deep ASGI stack takes seconds.
            log.error("gateway.unhandled", path=scope.get("path"), correlation_id=cid, error=repr(exc),
                      traceback=traceback.format_exc())
            if not started:
                await internal_error()(scope, receive, send_wrapped)



def access(scope: Scope, status: int, seconds: float) -> None:
    """The access log line (the correlation id is bound) and the HTTP metrics, per route template."""
    route = getattr(scope.get("route"), "path", None) or "unmatched"
    method = scope.get("method", "")
    HTTP_REQUESTS.labels(method, route, str(status)).inc()
    HTTP_SECONDS.labels(method, route).observe(seconds)
    log.info("http.access", method=method, path=scope.get("path"), route=route, status=status,
             ms=round(seconds * 1000, 1), client=(scope.get("client") or ("",))[0])
