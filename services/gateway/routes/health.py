"""GET /healthz: asks each service over NATS (pb.platform.health.<service>) in parallel; no auth,
so load balancers and the dashboard can poll it. 503 unless every service answers "ok"."""
from __future__ import annotations

import asyncio
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from services.gateway.client import HEALTH_TIMEOUT_S
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
    services: dict[str, ServiceHealth] = Field(description="by service name")


async def _one(client: Any, service: str) -> dict[str, Any]:
    try:
        return await client.health(service, HEALTH_TIMEOUT_S)
    except DomainError as exc:
        return {"status": "unreachable", "detail": exc.detail}


@router.get("/healthz", summary="健康检查 / health of the gateway and every service", response_model=HealthReport,
            responses={503: {"model": HealthReport, "description": "a service is degraded or unreachable"}})
async def healthz(request: Request) -> JSONResponse:
    client = request.app.state.client
    answers = await asyncio.gather(*(_one(client, s) for s in SERVICES))
    services = dict(zip(SERVICES, answers, strict=True))
    healthy = all(a.get("status") == "ok" for a in answers)
    return JSONResponse({"status": "ok" if healthy else "degraded", "services": services},
                        status_code=200 if healthy else 503)
