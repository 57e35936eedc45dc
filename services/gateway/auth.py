"""Authentication and the coarse authorization the edge can decide alone: who (bearer JWT), which
county (path county = token county, platform_admin anywhere), read-only auditors, and who may add
a county. Finer scope (township, branch, member) travels in the Actor and is enforced by services."""
from __future__ import annotations

import hashlib
import hmac
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared.auth import Actor, InvalidToken
from shared.errors import DomainError, forbidden

COUNTY_PATTERN = r"^[1-9]\d{5}$"
TOKEN_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"

bearer = HTTPBearer(auto_error=False, bearerFormat="JWT",
                    description="EdDSA JWT (shared/auth.py issue_token); carries role and county/township/branch scope")


def unauthenticated(detail: str) -> DomainError:
    return DomainError("unauthenticated", detail, 401)


SESSION_COOKIE = "dangjian_session"   # HttpOnly, SameSite=Strict: the same EdDSA token a bearer sends
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def csrf_token(session_token: str) -> str:
    """The CSRF token of a session: derived from the session's token, which scripts cannot read
    (HttpOnly) and other sites cannot send (SameSite), so a forged form cannot carry it."""
    return hashlib.sha256(b"dangjian-csrf\0" + session_token.encode()).hexdigest()[:32]


def session_token(request: Request) -> str | None:
    return request.cookies.get(SESSION_COOKIE) or None


def check_csrf(request: Request, token: str, given: str | None) -> None:
    if not given or not hmac.compare_digest(given, csrf_token(token)):
        raise forbidden("表单已过期，请刷新页面后重试 / missing or wrong CSRF token (X-CSRF-Token header)")


async def current_actor(request: Request,
                        creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Actor:
    """The bearer token's actor, or the session cookie's (a write with the cookie needs X-CSRF-Token)."""
    token = creds.credentials if creds is not None and creds.credentials else session_token(request)
    if not token:
        raise unauthenticated("缺少身份令牌 / missing bearer token (Authorization: Bearer <jwt>)")
    if creds is None and request.method not in SAFE_METHODS:
        check_csrf(request, token, request.headers.get(CSRF_HEADER))
    return actor_of(request, token)


def actor_of(request: Request, token: str) -> Actor:
    try:
        actor = request.app.state.verifier.actor(token)
    except InvalidToken as exc:
        raise unauthenticated(f"身份令牌无效 / invalid token: {exc}") from None
    if request.app.state.revocations.revoked(actor.sub, actor.county, actor.issued_at):
        raise unauthenticated("身份令牌已被撤销 / this token has been revoked")
    return actor


CountyPath = Annotated[str, Path(pattern=COUNTY_PATTERN, description="6位行政区划代码 / county code, e.g. 450503")]


async def county_reader(county: CountyPath, actor: Annotated[Actor, Depends(current_actor)]) -> Actor:
    if not actor.in_county(county):
        raise forbidden(f"无权访问县 {county} / token is not valid for county {county}")
    return actor


async def county_writer(actor: Annotated[Actor, Depends(county_reader)]) -> Actor:
    if not actor.can_write:
        raise forbidden("审计角色只读 / auditors have read-only access")
    return actor


async def platform_admin(actor: Annotated[Actor, Depends(current_actor)]) -> Actor:
    if actor.role != "platform_admin":
        raise forbidden("仅平台管理员可执行此操作 / only a platform_admin may do this")
    return actor
