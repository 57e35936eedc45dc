"""The audit page (巡查、纪检): pick a member or an organization, a business date (as of) and a recorded
time (known at); see the rating as the county knew it then and every score event behind it — who
recorded it, when, and whether it was revoked then or only later. Reads the audit replay of the
ratings service with the signed-in person's token (its read rules apply)."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import Response

from services.gateway.pages.web import SignInNeeded, county_page, edge_for, render, to_login
from shared.errors import DomainError
from shared.ids import is_token

router = APIRouter()
CHINA = ZoneInfo("Asia/Shanghai")


def known_at_of(value: str) -> datetime | None:
    """A datetime-local value (China time) or an ISO time with its offset; None when empty or unreadable."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=CHINA)


@router.get("/counties/{county}/audit")
async def audit(request: Request, county: str) -> Response:
    try:
        actor, denied = county_page(request, county)
    except SignInNeeded:
        return to_login(request)
    if denied:
        return denied
    p = request.query_params
    kind = "organization" if p.get("kind") == "organization" else "member"
    rated_id, as_of_text, known_text = p.get("id", "").strip(), p.get("as_of", ""), p.get("known_at", "")
    errors: dict[str, str] = {}
    as_of = known_at = None
    if as_of_text:
        try:
            as_of = date.fromisoformat(as_of_text)
        except ValueError:
            errors["as_of"] = "应为有效日期（如 2026-01-31）"
    if known_text:
        known_at = known_at_of(known_text)
        if known_at is None:
            errors["known_at"] = "应为有效时间"
    if rated_id and not is_token(rated_id):
        errors["id"] = "编号只能包含字母、数字、_ 和 -"
    result = None
    if rated_id and not errors:
        try:
            result = await edge_for(request, actor, county).read("ratings", "rating_as_of", {
                "rated_kind": kind, "rated_id": rated_id, "as_of": as_of.isoformat() if as_of else None,
                "known_at": known_at.isoformat() if known_at else None})
        except DomainError as exc:
            errors["form"] = exc.detail.split(" / ", 1)[0]
    form = {"kind": kind, "id": rated_id, "as_of": as_of_text,
            "known_at": known_at.astimezone(CHINA).strftime("%Y-%m-%dT%H:%M:%S") if known_at else known_text}
    return render(request, "audit.html", actor=actor, county=county, form=form, errors=errors, result=result)
