"""GET /healthz: asks each service over NATS (pb.platform.health.<service>) in parallel; no auth,
so load balancers and the dashboard can poll it. 503 unless every service answers "ok"."""
from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from services.gateway.client import HEALTH_TIMEOUT_S
from shared.errors import DomainError

SERVICES = ("organizations", "ratings", "notifications")
router = APIRouter(tags=["health"])


async def _one(client: Any, service: str) -> dict[str, Any]:
    try:
        return await client.health(service, HEALTH_TIMEOUT_S)
    except DomainError as exc:
        return {"status": "unreachable", "detail": exc.detail}


@router.get("/healthz", summary="健康检查 / health of the gateway and every service",
            responses={503: {"description": "a service is degraded or unreachable"}})
async def healthz(request: Request) -> JSONResponse:
    client = request.app.state.client
    answers = await asyncio.gather(*(_one(client, s) for s in SERVICES))
    services = dict(zip(SERVICES, answers, strict=True))
    healthy = all(a.get("status") == "ok" for a in answers)
    return JSONResponse({"status": "ok" if healthy else "degraded", "services": services},
                        status_code=200 if healthy else 503)
