"""GET /healthz: asks each service over NATS (pb.platform.health.<service>) in parallel. Without a
token it answers liveness only ("ok" or "degraded", 200 or 503) for load balancers; the details
(services, projections with county codes, checkpoints and errors) go only to a platform_admin."""
from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials

from services.gateway.auth import bearer, current_actor
from services.gateway.client import HEALTH_TIMEOUT_S
from shared.errors import DomainError

SERVICES = ("organizations", "ratings", "notifications")
router = APIRouter(tags=["health"])


async def _one(client: Any, service: str) -> dict[str, Any]:
    try:
        return await client.health(service, HEALTH_TIMEOUT_S)
    except DomainError as exc:
        return {"status": "unreachable", "detail": exc.detail}


@router.get("/healthz", summary="健康检查 / liveness; details for a platform_admin token",
            responses={503: {"description": "a service is degraded or unreachable"},
                       401: {"description": "a token was sent and is invalid"}})
async def healthz(request: Request,
                  creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> JSONResponse:
    actor = await current_actor(request, creds) if creds is not None else None
    client = request.app.state.client
    answers = await asyncio.gather(*(_one(client, s) for s in SERVICES))
    healthy = all(a.get("status") == "ok" for a in answers)
    body: dict[str, Any] = {"status": "ok" if healthy else "degraded"}
    if actor is not None and actor.role == "platform_admin":
        body["services"] = dict(zip(SERVICES, answers, strict=True))
    return JSONResponse(body, status_code=200 if healthy else 503)
