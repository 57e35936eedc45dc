"""The rectification ledger (整顿台账): cases filtered by campaign, township and status, sorted and paged
on the server, and each case's timeline (every step, when and by whom) with its next step."""
from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import Response

from services.gateway.pages.tables import table
from services.gateway.pages.web import SignInNeeded, county_page, edge_for, render, to_login
from shared.errors import DomainError

router = APIRouter()
STATUSES = ("open", "flagged", "planned", "township_accepted", "rectified")


def next_step(case: dict) -> str:
    """What the case waits for (整顿流程: 方案 → 整改与进展 → 乡镇验收 → 县级验收销号 → 跟踪一年)."""
    status = case["status"]
    if status == "flagged":
        return "制定“一村一策”整顿方案 / plan the rectification"
    if status == "planned":
        return "推进整改、报告进展，乡镇初验 / report progress, township acceptance"
    if status == "township_accepted":
        return "县级验收销号 / county acceptance"
    until = case.get("follow_up_until")
    if until and date.fromisoformat(until) >= date.today():
        return f"销号后跟踪至 {until} / follow-up until {until}"
    return "已完成 / done"


@router.get("/counties/{county}/rectification")
async def ledger(request: Request, county: str) -> Response:
    try:
        actor, denied = county_page(request, county)
    except SignInNeeded:
        return to_login(request)
    if denied:
        return denied
    params = request.query_params
    status = params.get("status") if params.get("status") in STATUSES else None
    query = {"campaign": params.get("campaign") or None, "status": status,
             "township_id": params.get("township_id") or None}
    edge = edge_for(request, actor, county)
    try:
        cases = await edge.read("organizations", "list_rectification_cases", query)
    except DomainError as exc:
        return render(request, "error.html", actor=actor, county=county, status_code=exc.status, message=exc.detail)
    towns = {t["township_id"]: t["name"] for t in (await edge.read("organizations", "list_townships", {}))["items"]}
    rows = [{**c, "township": towns.get(c["township_id"], c["township_id"] or ""), "next": next_step(c),
             "name": c["organization_name"] or c["organization_id"]} for c in cases["items"]]
    tbl = table(request, rows, ("name", "township", "campaign", "due_on", "status"), ("name", "case_id"), "due_on",
                keep=("campaign", "status", "township_id"))
    return render(request, "rectification.html", actor=actor, county=county, tbl=tbl, cases=cases, query=query,
                  statuses=STATUSES, townships=towns)


@router.get("/counties/{county}/rectification/{case_id}")
async def case(request: Request, county: str, case_id: str) -> Response:
    try:
        actor, denied = county_page(request, county)
    except SignInNeeded:
        return to_login(request)
    if denied:
        return denied
    try:
        detail = await edge_for(request, actor, county).read("organizations", "rectification_case", {"case_id": case_id})
    except DomainError as exc:
        return render(request, "error.html", actor=actor, county=county, status_code=exc.status, message=exc.detail)
    return render(request, "case.html", actor=actor, county=county, case=detail, next=next_step(detail))
