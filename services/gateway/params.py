"""Query parameters shared by several routes, validated strictly at the edge."""
from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import Header, Path, Query
from pydantic import BeforeValidator

from services.gateway.auth import TOKEN_PATTERN

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _iso_date_only(value: Any) -> Any:
    """A business date is written YYYY-MM-DD. Pydantic's lax mode would read "0" or "1700000000" as
    a Unix timestamp (1970-01-01 ...): refused instead, naming the parameter."""
    if value is None or isinstance(value, date) or (isinstance(value, str) and _ISO_DATE.match(value)):
        return value
    raise ValueError("须为日期 YYYY-MM-DD / must be a date YYYY-MM-DD")


IsoDate = Annotated[date, BeforeValidator(_iso_date_only)]


def parse_known_at(value: Any) -> Any:
    """A recorded time: YYYY-MM-DD means the end of that day in China Standard Time (what the county knew
    that day); a date-time must carry its offset (Z or +08:00), since a bare one is ambiguous."""
    if value is None or isinstance(value, datetime):
        return value
    if isinstance(value, str) and _ISO_DATE.match(value):
        try:
            return datetime.combine(date.fromisoformat(value), time.max, tzinfo=ZoneInfo("Asia/Shanghai"))
        except ValueError:
            pass
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            return parsed
    raise ValueError("须为日期 YYYY-MM-DD 或带时区的时间 2026-01-15T10:00:00+08:00 / must be a date YYYY-MM-DD "
                     "or a date-time with its offset, e.g. 2026-01-15T10:00:00+08:00")


KnownAt = Annotated[datetime, BeforeValidator(parse_known_at)]


# -- the query and path parameters the route modules share (one definition each) -----------------
IdPath = Annotated[str, Path(pattern=TOKEN_PATTERN, description="编号 / id")]
IdQuery = Annotated[str | None, Query(pattern=TOKEN_PATTERN, description="编号 / id (only this one)")]
YearQuery = Annotated[int, Query(ge=2000, le=2100, description="年度 / year")]
OptionalYearQuery = Annotated[int | None, Query(ge=2000, le=2100, description="年度；默认见操作说明 / year; "
                                                "default as the operation says (this year, or the year of as_of)")]
AsOfQuery = Annotated[IsoDate | None, Query(description="业务日期 YYYY-MM-DD；默认今天 / business date; default today")]
# 党籍异动 and similar registers reach back to the Party's founding, not only to the system's years
HistoryYearQuery = Annotated[int | None, Query(ge=1921, le=2100, description="年度 / year")]
PreferHeader = Annotated[str | None, Header(description="RFC 7240: `respond-async` runs the request as a job (202 with "
                                                        "Location: …/jobs/{id}) whatever its size")]
