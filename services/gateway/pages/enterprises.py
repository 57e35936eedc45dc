"""两新组织 (enterprises and social organizations) with filters: township, unit type, industry, status
and a search, sorted and paged on the server. A township operator sees only their own township,
whatever the URL asks for."""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from services.gateway.pages.tables import table
from services.gateway.pages.web import SignInNeeded, county_page, edge_for, render, to_login

router = APIRouter()
FILTERS = ("township_id", "unit_type", "industry", "status")


@router.get("/counties/{county}/enterprises")
async def enterprises(request: Request, county: str) -> Response:
    try:
        actor, denied = county_page(request, county)
    except SignInNeeded:
        return to_login(request)
    if denied:
        return denied
    params = request.query_params
    township = actor.township if actor.role == "township_operator" else params.get("township_id") or None
    edge = edge_for(request, actor, county)
    units = await edge.read("organizations", "list_enterprises", {"township_id": township})
    towns = (await edge.read("organizations", "list_townships", {}))["items"]
    names = {t["township_id"]: t["name"] or t["township_id"] for t in towns}
    if actor.role == "township_operator":
        towns = [t for t in towns if t["township_id"] == actor.township]
    chosen = {f: params.get(f, "") for f in FILTERS}
    chosen["township_id"] = township or ""
    items = [{**u, "township": names.get(u["township_id"], u["township_id"])} for u in units["items"]
             if all(not chosen[f] or str(u.get(f)) == chosen[f] for f in FILTERS)]
    options = {f: sorted({str(u.get(f)) for u in units["items"]}) for f in ("unit_type", "industry", "status")}
    tbl = table(request, items, ("name", "township", "industry", "employees", "full_members", "status"),
                ("name", "uscc"), "name", keep=FILTERS)
    return render(request, "enterprises.html", actor=actor, county=county, tbl=tbl, chosen=chosen, options=options,
                  townships=towns)
