"""People's accounts and sessions → the organizations service's accounts context.

A browser signs in with `POST /api/v1/session` (the token goes into an HttpOnly, SameSite=Strict
cookie; the answer carries the CSRF token its writes must send as X-CSRF-Token); an integration asks
`POST /api/v1/tokens` for a bearer token. Either way it is the same EdDSA token, verified the same
way. Disabling, re-scoping or resetting an account, and signing out, revoke the account's tokens
issued until then (shared/revocations.py), so an open session ends at once."""
from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response
from pydantic import BaseModel, Field

from services.gateway import bodies
from services.gateway.auth import SESSION_COOKIE, CountyPath, county_writer, csrf_token, current_actor
from services.gateway.edge import WriteEdge, written
from services.gateway.problems import PROBLEM_RESPONSES, problems
from services.gateway.routes.tokens import _revoke
from services.organizations.accounts.commands import (LOGIN_PATTERN, AccountView, ChangePassword, CreateAccount,
                                                      DisableAccount, RescopeAccount, ResetPassword, SessionIssued,
                                                      SignIn)
from services.organizations.accounts.queries import AccountList
from shared.auth import Actor

SERVICE = "organizations"
router = APIRouter(prefix="/api/v1", tags=["accounts"], responses=PROBLEM_RESPONSES)
Disabling = bodies.without(DisableAccount, "AccountDisabling", {"login"})
Rescoping = bodies.without(RescopeAccount, "AccountRescoping", {"login"})
Resetting = bodies.without(ResetPassword, "PasswordResetting", {"login"})
LoginPath = Annotated[str, Path(pattern=LOGIN_PATTERN, description="登录名 / login")]


class Session(BaseModel):
    """The signed-in person (the token itself stays in the HttpOnly cookie)."""

    login: str = Field(description="登录名 / login")
    name: str = Field(description="姓名 / name")
    role: str = Field(description="角色 / role")
    county: str | None = Field(description="县 / county")
    township: str | None = Field(description="乡镇 / township")
    branch: str | None = Field(description="支部 / branch")
    expires_at: float = Field(description="Unix time the session ends")
    csrf_token: str = Field(description="send as X-CSRF-Token with every write made with the cookie")


class SignedOut(BaseModel):
    signed_out: bool = Field(description="the cookie is cleared and the account's tokens are revoked")


async def sign_in(request: Request, data: dict[str, Any]) -> SessionIssued:
    correlation_id = getattr(request.state, "correlation_id", None)
    reply = await request.app.state.client.public(SERVICE, "sign_in", data, correlation_id)
    return SessionIssued.model_validate(reply.data)


def set_session(request: Request, response: Response, issued: SessionIssued) -> Session:
    secure = request.url.scheme == "https"
    response.set_cookie(SESSION_COOKIE, issued.token, max_age=int(issued.expires_at - _now()), httponly=True,
                        samesite="strict", secure=secure, path="/")
    return Session(**issued.model_dump(exclude={"token"}), csrf_token=csrf_token(issued.token))


def _now() -> float:
    return time.time()


@router.post("/session", response_model=Session, responses=problems(401, 423),
             summary="登录（浏览器会话） / sign in: an HttpOnly session cookie")
async def open_session(body: SignIn, request: Request, response: Response) -> Session:
    return set_session(request, response, await sign_in(request, body.model_dump()))


@router.delete("/session", response_model=SignedOut, summary="退出登录 / sign out (ends the account's sessions)")
async def close_session(request: Request, response: Response,
                        actor: Annotated[Actor, Depends(current_actor)]) -> SignedOut:
    await _revoke(request, actor, actor.sub, actor.county)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return SignedOut(signed_out=True)


@router.post("/tokens", response_model=SessionIssued, responses=problems(401, 423),
             summary="换取令牌（集成） / a bearer token for an integration, by login and password")
async def issue_bearer(body: SignIn, request: Request) -> SessionIssued:
    return await sign_in(request, body.model_dump())


@router.post("/password", response_model=AccountView, responses=problems(401, 423),
             summary="修改密码 / change your password (proving the current one); your sessions end")
async def change_password(body: ChangePassword, request: Request, response: Response) -> Any:
    reply = await request.app.state.client.public(SERVICE, "change_password", body.model_dump(),
                                                  getattr(request.state, "correlation_id", None))
    actor = Actor(sub=body.login, role="auditor")  # only its sub and county are used by _revoke
    await _revoke(request, actor, body.login, reply.data.get("county"))
    response.delete_cookie(SESSION_COOKIE, path="/")
    return reply.data


@router.post("/counties/{county}/accounts", status_code=201, response_model=written(AccountView),
             responses=problems(409), summary="开设账号 / open an account in the county (county admin)")
async def create_account(body: CreateAccount, edge: WriteEdge) -> dict[str, Any]:
    return await edge.write(SERVICE, "create_account", body.model_dump())


@router.get("/counties/{county}/accounts", response_model=AccountList,
            summary="本县账号 / the county's accounts (county admin)")
async def list_accounts(county: CountyPath, request: Request, actor: Annotated[Actor, Depends(county_writer)]) -> Any:
    return (await request.app.state.client.query(county, SERVICE, "list_accounts", actor, {})).data


@router.get("/counties/{county}/accounts/{login}", response_model=AccountView, responses=problems(404),
            summary="查看账号 / one account of the county (county admin)")
async def get_account(county: CountyPath, login: LoginPath, request: Request,
                      actor: Annotated[Actor, Depends(county_writer)]) -> Any:
    reply = await request.app.state.client.query(county, SERVICE, "account", actor, {"login": login})
    return reply.data


async def _change(request: Request, edge, name: str, data: dict[str, Any]) -> dict[str, Any]:
    out = await edge.write(SERVICE, name, data)
    await _revoke(request, edge.actor, data["login"], edge.county)  # its open sessions end now
    return out


@router.post("/counties/{county}/accounts/{login}/disable", response_model=written(AccountView),
             responses=problems(404), summary="停用账号 / disable an account (its sessions end)")
async def disable_account(login: LoginPath, body: Disabling, edge: WriteEdge, request: Request) -> dict[str, Any]:
    return await _change(request, edge, "disable_account", {**body.model_dump(), "login": login})


@router.post("/counties/{county}/accounts/{login}/enable", response_model=written(AccountView),
             responses=problems(404), summary="启用账号 / enable a disabled account")
async def enable_account(login: LoginPath, edge: WriteEdge) -> dict[str, Any]:
    return await edge.write(SERVICE, "enable_account", {"login": login})


@router.put("/counties/{county}/accounts/{login}/scope", response_model=written(AccountView),
            responses=problems(404), summary="调整角色与范围 / another role or scope (its sessions end)")
async def rescope_account(login: LoginPath, body: Rescoping, edge: WriteEdge, request: Request) -> dict[str, Any]:
    return await _change(request, edge, "rescope_account", {**body.model_dump(), "login": login})


@router.post("/counties/{county}/accounts/{login}/password-reset", response_model=written(AccountView),
             responses=problems(404), summary="重置密码 / set a new password (ends a lockout and the sessions)")
async def reset_password(login: LoginPath, body: Resetting, edge: WriteEdge, request: Request) -> dict[str, Any]:
    return await _change(request, edge, "reset_password", {**body.model_dump(), "login": login})
