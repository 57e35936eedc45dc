"""GET /healthz: asks each service over NATS (pb.platform.health.<service>) in parallel. Without a
token it answers liveness only ("ok" or "degraded", 200 or 503) for load balancers; the details
(services, projections with county codes, checkpoints and errors) go only to a platform_admin."""
from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel, ConfigDict, Field

from services.gateway.auth import bearer, current_actor
from services.gateway.client import HEALTH_TIMEOUT_S
from services.gateway.problems import problems
from shared.errors import DomainError

SERVICES = ("organizations", "ratings", "notifications")
router = APIRouter(tags=["health"])


class ServiceHealth(BaseModel):
    """One service's answer (shared/service.py health), or why it gave none."""

    model_config = ConfigDict(extra="allow")
    status: Literal["ok", "degraded", "unreachable"] = Field(description="ok / degraded (a projection stopped) "
                                                                         "/ unreachable (no answer)")
    projections: list[dict[str, Any]] = Field(default_factory=list, description="each projection and county: "
                                              "role (active/standby), checkpoint, lag, error if stopped")
    detail: str | None = Field(None, description="why it is unreachable")


class HealthReport(BaseModel):
    status: Literal["ok", "degraded"] = Field(description="ok only when every service is ok")
    services: dict[str, ServiceHealth] | None = Field(
        None, description="by service name; only for a platform_admin token (liveness only without one)")


async def _one(client: Any, service: str) -> dict[str, Any]:
    try:
        return await client.health(service, HEALTH_TIMEOUT_S)
    except DomainError as exc:
        return {"status": "unreachable", "detail": exc.detail}


@router.get("/healthz", summary="健康检查 / liveness; details for a platform_admin token", response_model=HealthReport,
            responses={503: {"model": HealthReport, "description": "a service is degraded or unreachable"},
                       **problems(401)})  # a token was sent and is invalid
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
