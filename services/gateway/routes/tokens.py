"""Revoking a user's bearer tokens: every token of that subject issued until now is refused by every
gateway instance (shared/revocations.py). A county admin revokes a subject's tokens for their county,
a platform admin for one county or for every county."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from services.gateway.auth import CountyPath, county_writer, platform_admin
from services.gateway.client import unavailable
from services.gateway.problems import PROBLEM_RESPONSES
from shared.auth import COUNTY_DEPARTMENT, Actor
from shared.errors import forbidden
from shared.revocations import revocation_key, revoke

router = APIRouter(prefix="/api/v1", tags=["auth"], responses=PROBLEM_RESPONSES)


class RevokeTokens(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sub: str = Field(min_length=1, max_length=80, description="the user (token subject) whose tokens are refused")


class TokensRevoked(BaseModel):
    sub: str
    county: str | None = Field(description="null: tokens for every county")
    revoked_at: float = Field(description="seconds since the epoch; tokens issued until then are refused")


async def _revoke(request: Request, actor: Actor, sub: str, county: str | None) -> TokensRevoked:
    client = request.app.state.client
    nc = getattr(client, "nc", None)
    if nc is None:
        raise unavailable("撤销存储不可用 / the revocation store is not reachable")
    try:
        at = await revoke(nc.jetstream(), sub, county, by=f"{actor.role}:{actor.sub}")
    except Exception:  # noqa: BLE001 - NATS down or bucket missing: nothing was recorded
        raise unavailable("撤销未能记录，请重试 / the revocation could not be recorded; try again") from None
    request.app.state.revocations.note(revocation_key(sub, county), f'{{"revoked_at": {at}}}'.encode())
    return TokensRevoked(sub=sub, county=county, revoked_at=at)


@router.post("/counties/{county}/token-revocations", status_code=201, response_model=TokensRevoked,
             summary="撤销某用户在本县的令牌 / revoke a user's tokens for this county (county admin)")
async def revoke_in_county(county: CountyPath, body: RevokeTokens, request: Request,
                           actor: Annotated[Actor, Depends(county_writer)]) -> TokensRevoked:
    if actor.role not in COUNTY_DEPARTMENT:
        raise forbidden("只有县委组织部可以撤销令牌 / only the county department revokes tokens")
    return await _revoke(request, actor, body.sub, county)


@router.post("/token-revocations", status_code=201, response_model=TokensRevoked,
             summary="撤销某用户的全部令牌 / revoke a user's tokens for every county (platform_admin)")
async def revoke_everywhere(body: RevokeTokens, request: Request,
                            actor: Annotated[Actor, Depends(platform_admin)]) -> TokensRevoked:
    return await _revoke(request, actor, body.sub, None)
