"""The county overview (总览): coverage against the targets and the units falling short, the star
distribution, rectification cases, elections due, the recent notifications (live) — read with the
signed-in person's token, in parallel, each with the same scope as the API."""
from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from services.gateway.pages.notifications import live_start, with_page_links
from services.gateway.pages.scope import narrow
from services.gateway.pages.web import SignInNeeded, county_page, edge_for, page_actor, render, to_login
from services.gateway.routes.ratings import this_year
from shared.errors import DomainError

router = APIRouter()
READS = {  # name on the page: (service, query, parameters)
    "coverage": ("organizations", "coverage", {}),
    "rectification": ("organizations", "rectification_summary", {}),
    "elections": ("organizations", "election_reminders", {}),
    "townships": ("organizations", "list_townships", {}),
    "notifications": ("notifications", "inbox", {"page": 1, "size": 6}),
}


async def gather_reads(edge, reads: dict[str, tuple[str, str, dict]]) -> tuple[dict[str, Any], dict[str, str]]:
    """Every read at once; a refused or failed one leaves its panel with the reason, not the page broken."""
    names = list(reads)
    results = await asyncio.gather(*(edge.read(*reads[n]) for n in names), return_exceptions=True)
    data, problems = {}, {}
    for name, result in zip(names, results):
        if isinstance(result, DomainError):
            problems[name] = result.detail
        elif isinstance(result, BaseException):
            raise result
        else:
            data[name] = result
    return data, problems


@router.get("/")
async def home(request: Request) -> Response:
    try:
        actor = page_actor(request)
    except SignInNeeded:
        return to_login(request)
    if actor.county:
        return RedirectResponse(f"/counties/{actor.county}", status_code=303)
    return render(request, "counties.html", actor=actor)


@router.get("/counties/{county}")
async def overview(request: Request, county: str) -> Response:
    try:
        actor, denied = county_page(request, county)
    except SignInNeeded:
        return to_login(request)
    if denied:
        return denied
    year = this_year()
    edge = edge_for(request, actor, county)
    reads = {**READS, "stars": ("ratings", "star_distribution", {"year": year})}
    if actor.role == "township_operator":
        reads["organizations"] = ("organizations", "list_organizations", {"township_id": actor.township})
    data, problems = await gather_reads(edge, reads)
    branches = {o["organization_id"] for o in (data.get("organizations") or {}).get("items", [])}
    data = narrow(actor, data, branches)
    names = {t["township_id"]: t["name"] for t in (data.get("townships") or {}).get("items", [])}
    if "notifications" in data:
        data["notifications"] = with_page_links(data["notifications"])
    return render(request, "overview.html", actor=actor, county=county, year=year, data=data, problems=problems,
                  charts=_charts(data), township_names=names, live=live_start(data.get("notifications")))


def _charts(data: dict[str, Any]) -> dict[str, Any]:
    """What the page's ECharts draw (JSON in the page; no second request)."""
    coverage = data.get("coverage") or {}
    names = {t["township_id"]: t["name"] or t["township_id"] for t in (data.get("townships") or {}).get("items", [])}
    townships = [r for r in coverage.get("rows", []) if r["dimension"] == "township"]
    stars = (data.get("stars") or {}).get("members", {}).get("by_stars", {})
    return {
        "targets": [{"name": t["name"], "achieved": t["achieved"], "rate": t["rate"]}
                    for t in coverage.get("targets", [])],
        "townships": [{"name": names.get(r["key"], r["key"]), "rate": r["organization_coverage_rate"]} for r in townships],
        "stars": [{"stars": k, "count": v} for k, v in sorted(stars.items(), key=lambda kv: int(kv[0]))],
    }
