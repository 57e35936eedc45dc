"""Star ratings (星级管理): branches of the county with their members' star distribution, a branch's
members, one member's (or organization's) points handbook with the score history, and the forms to
record or revoke a score — the same commands as the API, with the signed-in person's token."""
from __future__ import annotations

import asyncio

import uuid
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from services.gateway.pages.forms import field_errors, refusal_errors
from services.gateway.pages.scope import narrow
from services.gateway.pages.tables import table
from services.gateway.pages.web import SignInNeeded, check_form, county_page, edge_for, render, to_login
from services.gateway.routes.ratings import this_year
from services.ratings.commands import RecordScore, RevokeScore
from shared.errors import DomainError

router = APIRouter()
KINDS = {"members": "member", "organizations": "organization"}


def _year(request: Request) -> int:
    value = request.query_params.get("year", "")
    return int(value) if value.isdigit() and 2000 <= int(value) <= 2100 else this_year()


@router.get("/counties/{county}/ratings")
async def branches(request: Request, county: str) -> Response:
    try:
        actor, denied = county_page(request, county)
    except SignInNeeded:
        return to_login(request)
    if denied:
        return denied
    year = _year(request)
    edge = edge_for(request, actor, county)
    dist = await edge.read("ratings", "star_distribution", {"year": year})
    if actor.role == "township_operator":
        orgs = await edge.read("organizations", "list_organizations", {"township_id": actor.township})
        dist = narrow(actor, {"stars": dist}, {o["organization_id"] for o in orgs["items"]})["stars"]
    rows = [{**b, "name": b["name"] or b["branch_id"]} for b in dist["branches"]]
    tbl = table(request, rows, ("name", "members_rated", "own_stars"), ("name", "branch_id"), "name", keep=("year",))
    return render(request, "ratings.html", actor=actor, county=county, year=year, dist=dist, tbl=tbl)


@router.get("/counties/{county}/ratings/branches/{branch_id}")
async def branch_members(request: Request, county: str, branch_id: str) -> Response:
    try:
        actor, denied = county_page(request, county)
    except SignInNeeded:
        return to_login(request)
    if denied:
        return denied
    edge, year = edge_for(request, actor, county), _year(request)
    members, own = await asyncio.gather(
        edge.read("organizations", "list_members", {"branch_id": branch_id, "limit": 500}),
        organization_name(edge, branch_id), return_exceptions=True)
    if isinstance(members, BaseException):
        raise members
    name = own if isinstance(own, str) else branch_id
    tbl = table(request, members["items"], ("name", "joined_on"), ("name", "member_id"), "name", keep=("year",))
    return render(request, "branch.html", actor=actor, county=county, year=year, branch_id=branch_id,
                  branch_name=name, tbl=tbl)


async def organization_name(edge, organization_id: str) -> str:
    """Its name for the page (names, not ids); the id when the registry has no such organization."""
    found = (await edge.read("organizations", "list_organizations", {"organization_id": organization_id}))["items"]
    return found[0]["name"] if found else organization_id


async def _rating_page(request: Request, county: str, kind: str, rated_id: str, errors: dict[str, str] | None = None,
                       form: dict[str, Any] | None = None, status_code: int = 200) -> Response:
    actor, denied = county_page(request, county)
    if denied:
        return denied
    year = _year(request)
    name_key = "member_id" if kind == "member" else "organization_id"
    edge = edge_for(request, actor, county)
    try:
        rating = await edge.read("ratings", f"{kind}_rating", {name_key: rated_id, "year": year})
        name = (await edge.read("organizations", "get_member", {"member_id": rated_id}))["name"] \
            if kind == "member" else await organization_name(edge, rated_id)
    except DomainError as exc:
        return render(request, "error.html", actor=actor, county=county, status_code=exc.status, message=exc.detail)
    rating["name"] = name
    rating["category_names"] = {s["category"]: s["name"] for s in rating["stars"]}
    return render(request, "rating.html", actor=actor, county=county, year=year, kind=kind, rating=rating,
                  errors=errors or {}, form=form or {"occurred_on": date.today().isoformat()},
                  status_code=status_code)


@router.get("/counties/{county}/{kinds}/{rated_id}/rating")
async def rating(request: Request, county: str, kinds: str, rated_id: str) -> Response:
    if kinds not in KINDS:
        return Response(status_code=404)
    try:
        return await _rating_page(request, county, KINDS[kinds], rated_id)
    except SignInNeeded:
        return to_login(request)


@router.post("/counties/{county}/{kinds}/{rated_id}/rating")
async def rating_form(request: Request, county: str, kinds: str, rated_id: str) -> Response:
    """记录积分 (action=record) or 撤销积分 (action=revoke), then back to the handbook (303)."""
    if kinds not in KINDS:
        return Response(status_code=404)
    try:
        actor, denied = county_page(request, county)
    except SignInNeeded:
        return to_login(request)
    if denied:
        return denied
    form = dict(await request.form())
    check_form(request, form)
    kind, year = KINDS[kinds], _year(request)
    try:
        if form.get("action") == "revoke":
            cmd = RevokeScore(score_id=form.get("score_id", ""), reason=form.get("revoke_reason", ""))
            await edge_for(request, actor, county).write("ratings", "revoke_score", cmd.model_dump(mode="json"))
        else:
            cmd = RecordScore(rated_kind=kind, rated_id=rated_id, year=year, category=form.get("category", ""),
                              points=form.get("points", ""), reason=form.get("reason", ""),
                              evidence_ref=form.get("evidence_ref") or None, occurred_on=form.get("occurred_on", ""),
                              idempotency_key=form.get("idempotency_key") or uuid.uuid4().hex)
            await edge_for(request, actor, county).write("ratings", "record_score", cmd.model_dump(mode="json"))
    except ValidationError as exc:
        return await _rating_page(request, county, kind, rated_id, field_errors(exc), form, 422)
    except DomainError as exc:
        return await _rating_page(request, county, kind, rated_id, refusal_errors(exc), form, exc.status)
    return RedirectResponse(f"/counties/{county}/{kinds}/{rated_id}/rating?year={year}", status_code=303)
