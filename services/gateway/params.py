"""Query parameters shared by several routes, validated strictly at the edge."""
from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from pydantic import BeforeValidator

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _iso_date_only(value: Any) -> Any:
    """A business date is written YYYY-MM-DD. Pydantic's lax mode would read "0" or "1700000000" as
    a Unix timestamp (1970-01-01 ...): refused instead, naming the parameter."""
    if value is None or isinstance(value, date) or (isinstance(value, str) and _ISO_DATE.match(value)):
        return value
    raise ValueError("须为日期 YYYY-MM-DD / must be a date YYYY-MM-DD")


IsoDate = Annotated[date, BeforeValidator(_iso_date_only)]
