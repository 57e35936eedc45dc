"""Coverage of 两新组织 (组织覆盖 / 工作覆盖): live or as of a date, a monthly series, and the Excel
table → the organizations service."""
from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from services.gateway.edge import ReadEdge
from services.gateway.files import XLSX_RESPONSES, xlsx_download
from services.gateway.params import IsoDate, KnownAt
from services.gateway.problems import PROBLEM_RESPONSES, invalid_input
from services.organizations.enterprises.queries import CoverageFigures, CoverageSeries
from shared.errors import FieldError

SERVICE = "organizations"
MONTH_PATTERN = r"^\d{4}-\d{2}(-\d{2})?$"
router = APIRouter(prefix="/api/v1/counties/{county}", tags=["coverage"], responses=PROBLEM_RESPONSES)

AsOfQuery = Annotated[IsoDate | None, Query(description="业务日期 YYYY-MM-DD；默认为当前（实时） / "
                                                     "business date; default: live figures")]
MonthQuery = Annotated[str, Query(pattern=MONTH_PATTERN, description="月份 YYYY-MM（或该月任一日 YYYY-MM-DD） / "
                                                                     "month, e.g. 2026-01")]


def _month(name: str, value: str) -> date:
    try:
        return date.fromisoformat(value if len(value) == 10 else f"{value}-01")
    except ValueError:
        raise invalid_input([FieldError(f"query.{name}", f"不是有效月份 / not a valid month: {value}")]) from None


KnownAtQuery = Annotated[KnownAt | None, Query(description="记录时间：YYYY-MM-DD（当日北京时间结束）或带时区的时间；仅此时"
                                                         "已记录的事件（审计回放） / recorded time: only events recorded "
                                                         "by then (audit replay); default: everything")]


def _as_of(as_of: date | None, known_at: datetime | None = None) -> dict[str, Any]:
    return {"as_of": as_of.isoformat() if as_of else None, "known_at": known_at.isoformat() if known_at else None}


@router.get("/coverage", response_model=CoverageFigures,
            summary="覆盖情况 / coverage by county, township, industry, size band; targets")
async def coverage(edge: ReadEdge, as_of: AsOfQuery = None, known_at: KnownAtQuery = None) -> Any:
    """Rows of `dimension` county (key = county code), township, industry, size_band and unit_type;
    the configured targets with the units that fall short; the two worklists. With `known_at`: as the
    county knew them then (bitemporal audit replay)."""
    return await edge.read(SERVICE, "coverage", _as_of(as_of, known_at))


@router.get("/coverage/series", response_model=CoverageSeries,
            summary="覆盖率月度序列 / monthly series of the county figures and targets")
async def coverage_series(edge: ReadEdge, from_month: MonthQuery, to_month: MonthQuery) -> Any:
    first, last = _month("from_month", from_month), _month("to_month", to_month)
    if last < first:
        raise invalid_input([FieldError("query.to_month", "结束月份早于开始月份 / to_month is before from_month")])
    return await edge.read(SERVICE, "coverage_series", {"from_month": first.isoformat(), "to_month": last.isoformat()})


@router.get("/coverage.xlsx", response_class=Response, responses=XLSX_RESPONSES,
            summary="导出覆盖情况统计表（Excel） / download the coverage table as .xlsx")
async def coverage_export(edge: ReadEdge, as_of: AsOfQuery = None) -> Response:
    fallback = f"coverage_{edge.county}{'_' + as_of.isoformat() if as_of else ''}.xlsx"
    return await xlsx_download(edge, SERVICE, "coverage_export", _as_of(as_of), fallback)
