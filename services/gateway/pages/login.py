"""Sign-in, sign-out and password change as forms (the same service commands as /api/v1/session).

The sign-in form has no session to derive a CSRF token from, so it carries a random one that is also
in a SameSite=Strict cookie set with the form (double submit): another site's forged sign-in (which
would sign the victim into the forger's account) sends no such cookie and is refused."""
from __future__ import annotations

import hmac
import secrets

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from services.gateway.auth import SESSION_COOKIE
from services.gateway.pages.forms import field_errors
from services.gateway.pages.i18n import chinese
from services.gateway.pages.web import SignInNeeded, check_form, page_actor, render, to_login
from services.gateway.routes.accounts import _revoke, set_session, sign_in
from services.organizations.accounts.commands import ChangePassword, SignIn
from shared.errors import DomainError

router = APIRouter()
LOGIN_CSRF_COOKIE = "dangjian_login_csrf"


def _login_page(request: Request, status_code: int = 200, **context) -> Response:
    """The form with a fresh CSRF token in a hidden field and in the cookie beside it."""
    token = secrets.token_urlsafe(24)
    response = render(request, "login.html", status_code=status_code, login_csrf=token, **context)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, max_age=3600, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https", path="/login")
    return response


def _safe_next(target: str | None) -> str:
    """Only a path of this site (no //host or scheme): an open redirect would help phishing."""
    return target if target and target.startswith("/") and not target.startswith("//") else "/"


@router.get("/login")
async def login_form(request: Request) -> Response:
    return _login_page(request, next=_safe_next(request.query_params.get("next")), errors={}, login="")


@router.post("/login")
async def login_submit(request: Request) -> Response:
    form = await request.form()
    login, target = str(form.get("login", "")), _safe_next(str(form.get("next", "")))
    cookie, given = request.cookies.get(LOGIN_CSRF_COOKIE, ""), str(form.get("csrf_token", ""))
    if not cookie or not given or not hmac.compare_digest(cookie, given):
        return _login_page(request, status_code=403, next=target, login=login,
                           errors={"form": "表单已过期，请重新登录 / the sign-in form expired or came from elsewhere"})
    try:
        cmd = SignIn(login=login, password=str(form.get("password", "")))
        issued = await sign_in(request, cmd.model_dump())
    except ValidationError as exc:
        return _login_page(request, status_code=422, next=target, errors=field_errors(exc), login=login)
    except DomainError as exc:
        return _login_page(request, status_code=exc.status, next=target, login=login,
                           errors={"form": chinese(exc.detail)})
    response = RedirectResponse(target, status_code=303)
    set_session(request, response, issued)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    try:
        actor = page_actor(request)
        check_form(request, await request.form())
        await _revoke(request, actor, actor.sub, actor.county)
    except SignInNeeded:
        pass
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/password")
async def password_form(request: Request) -> Response:
    try:
        actor = page_actor(request)
    except SignInNeeded:
        return to_login(request)
    return render(request, "password.html", actor=actor, errors={})


@router.post("/password")
async def password_submit(request: Request) -> Response:
    try:
        actor = page_actor(request)
    except SignInNeeded:
        return to_login(request)
    form = await request.form()
    check_form(request, form)
    try:
        cmd = ChangePassword(login=actor.sub, password=str(form.get("password", "")),
                             new_password=str(form.get("new_password", "")))
        await request.app.state.client.public("organizations", "change_password", cmd.model_dump())
    except ValidationError as exc:
        return render(request, "password.html", actor=actor, status_code=422, errors=field_errors(exc))
    except DomainError as exc:
        errors = {e.field: chinese(e.message) for e in exc.errors} or {"form": chinese(exc.detail)}
        return render(request, "password.html", actor=actor, status_code=exc.status, errors=errors)
    await _revoke(request, actor, actor.sub, actor.county)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
