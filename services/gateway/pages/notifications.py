"""通知 (the inbox and live feed page): the signed-in person's notifications, newest first, paged on the
server (`?page=&unread_only=1`), marked read one by one or all at once. New ones arrive without a reload
through the API's SSE feed (static/notifications.js, the session cookie authenticates the EventSource);
the notifications service and the feed filter both by the person's scope, as for any API client."""
from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from services.gateway.pages.web import SignInNeeded, check_form, county_page, edge_for, render, to_login
from shared.errors import DomainError

router = APIRouter()
PAGE_SIZE = 20
_CASE_LINK = re.compile(r"^/api/v1/counties/(\d{6})/rectification-cases/([^/]+)$")


def page_link(api_link: str | None) -> str | None:
    """The workbench page of a notification's item (its API link), where there is one."""
    m = _CASE_LINK.match(api_link or "")
    return f"/counties/{m.group(1)}/rectification/{m.group(2)}" if m else None


def with_page_links(box: dict[str, Any]) -> dict[str, Any]:
    return {**box, "items": [{**i, "page_link": page_link(i.get("link"))} for i in box.get("items", [])]}


def live_start(box: dict[str, Any] | None) -> dict[str, int]:
    """Where the page's live feed starts: after the newest notification the page was rendered with, so
    nothing between rendering and connecting is missed; the unread count of the same read."""
    if not box:
        return {}
    items = box.get("items") or []
    return {"after": max((i["seq"] for i in items), default=0), "unread": box.get("unread", 0)}


def _page_number(request: Request) -> int:
    try:
        return min(max(1, int(request.query_params.get("page", "1"))), 100_000)
    except ValueError:
        return 1


@router.get("/counties/{county}/notifications")
async def inbox(request: Request, county: str) -> Response:
    try:
        actor, denied = county_page(request, county)
    except SignInNeeded:
        return to_login(request)
    if denied:
        return denied
    unread_only = request.query_params.get("unread_only") in ("1", "true", "on")
    page = _page_number(request)
    edge = edge_for(request, actor, county)
    try:
        box = await edge.read("notifications", "inbox", {"page": page, "size": PAGE_SIZE, "unread_only": unread_only})
    except DomainError as exc:
        return render(request, "error.html", actor=actor, county=county, status_code=exc.status, message=exc.detail)
    live = live_start(box) if page == 1 else {}
    pages = max(1, -(-box["total"] // PAGE_SIZE))
    return render(request, "notifications.html", actor=actor, county=county, box=with_page_links(box), live=live,
                  page=page, pages=pages, unread_only=unread_only)


@router.post("/counties/{county}/notifications/read")
async def mark_read(request: Request, county: str) -> Response:
    try:
        actor, denied = county_page(request, county)
    except SignInNeeded:
        return to_login(request)
    if denied:
        return denied
    form = await request.form()
    check_form(request, form)
    ids = [str(v) for v in form.getlist("notification_id") if v][:500]
    body = {"notification_ids": ids, "all": not ids}
    try:
        await edge_for(request, actor, county).write("notifications", "mark_read", body)
    except DomainError as exc:
        return render(request, "error.html", actor=actor, county=county, status_code=exc.status, message=exc.detail)
    return RedirectResponse(f"/counties/{county}/notifications", status_code=303)
