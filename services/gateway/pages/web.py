"""What every page needs: the signed-in person from the session cookie (or a redirect to /login),
the language, the CSRF token for forms, and rendering a template."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fastapi import Request, Response
from fastapi.responses import RedirectResponse
from fastapi.templating import Jinja2Templates

from services.gateway.auth import COUNTY_PATTERN, actor_of, check_csrf, csrf_token, session_token
from services.gateway.edge import Edge, make_edge
from services.gateway.pages.i18n import texts
from shared.auth import Actor
from shared.errors import DomainError

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent.parent / "templates"))
LANG_COOKIE = "dangjian_lang"


def pct(value: float | None) -> str:
    """0.875 → 87.5%; no figure → —."""
    return "—" if value is None else f"{value * 100:.1f}%"


TEMPLATES.env.filters["pct"] = pct


class SignInNeeded(Exception):
    """No valid session: the page answers a redirect to /login."""


def lang_of(request: Request) -> str:
    chosen = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE) or "zh"
    return "en" if chosen == "en" else "zh"


def page_actor(request: Request) -> Actor:
    token = session_token(request)
    if not token:
        raise SignInNeeded()
    try:
        return actor_of(request, token)
    except DomainError:
        raise SignInNeeded() from None


def county_page(request: Request, county: str) -> tuple[Actor, Response | None]:
    """The signed-in person and, when the county is outside their scope, the 403 page to answer."""
    actor = page_actor(request)
    if not re.match(COUNTY_PATTERN, county) or not actor.in_county(county):
        return actor, render(request, "error.html", actor=actor, status_code=403,
                             message=f"无权访问县 {county} / this county is outside your scope")
    return actor, None


def check_form(request: Request, form: Any) -> None:
    check_csrf(request, session_token(request) or "", form.get("csrf_token"))


def edge_for(request: Request, actor: Actor, county: str) -> Edge:
    return make_edge(request, Response(), actor, county)


def render(request: Request, template: str, actor: Actor | None = None, status_code: int = 200,
           **context: Any) -> Response:
    lang = lang_of(request)
    token = session_token(request)
    response = TEMPLATES.TemplateResponse(request, template, {
        "t": texts(lang), "lang": lang, "actor": actor, "csrf": csrf_token(token) if token else "", **context},
        status_code=status_code)
    if request.query_params.get("lang") in ("zh", "en"):
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax", path="/")
    return response


def to_login(request: Request) -> RedirectResponse:
    return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
