"""Coverage drill-down (覆盖情况): the county's rows by township, industry, size band or unit type as
of a date (the as-of picker; default live), the targets with the units falling short, and the monthly
trend of the county figures over the twelve months up to that date."""
from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import Response

from services.gateway.pages.overview import gather_reads
from services.gateway.pages.scope import narrow
from services.gateway.pages.tables import table
from services.gateway.pages.web import SignInNeeded, county_page, edge_for, render, to_login

router = APIRouter()
DIMENSIONS = ("township", "industry", "size_band", "unit_type")


def _as_of(request: Request) -> date | None:
    try:
        value = request.query_params.get("as_of", "")
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@router.get("/counties/{county}/coverage")
async def coverage(request: Request, county: str) -> Response:
    try:
        actor, denied = county_page(request, county)
    except SignInNeeded:
        return to_login(request)
    if denied:
        return denied
    as_of, error = _as_of(request), None
    if request.query_params.get("as_of") and as_of is None:
        error = "统计日期格式应为 YYYY-MM-DD / as_of must be a date"
    dimension = request.query_params.get("dimension", "township")
    dimension = dimension if dimension in DIMENSIONS else "township"
    last = as_of or date.today()
    first = date(last.year - 1, last.month, 1)
    data, problems = await gather_reads(edge_for(request, actor, county), {
        "coverage": ("organizations", "coverage", {"as_of": as_of.isoformat() if as_of else None}),
        "series": ("organizations", "coverage_series", {"from_month": first.isoformat(), "to_month": last.isoformat()}),
        "townships": ("organizations", "list_townships", {}),
    })
    data = narrow(actor, data)
    if actor.role == "township_operator":
        data.pop("series", None)  # the monthly series is county-wide
    names = {t["township_id"]: t["name"] for t in (data.get("townships") or {}).get("items", [])}
    rows = [{**r, "label": names.get(r["key"], r["key"]) if dimension == "township" else r["key"]}
            for r in (data.get("coverage") or {}).get("rows", []) if r["dimension"] == dimension]
    tbl = table(request, rows, ("label", "in_scope", "organized", "organization_coverage_rate", "work_coverage_rate"),
                ("label",), "label", keep=("as_of", "dimension"), page_size=50)
    months = (data.get("series") or {}).get("months", [])
    trend = [{"month": m["month"], "org": (m.get("county") or {}).get("organization_coverage_rate"),
              "work": (m.get("county") or {}).get("work_coverage_rate")} for m in months]
    return render(request, "coverage.html", actor=actor, county=county, as_of=as_of, dimension=dimension,
                  dimensions=DIMENSIONS, data=data, problems=problems, tbl=tbl, trend=trend, error=error,
                  township_names=names)
