"""Business dates are China Standard Time: a command at 07:00 in Beijing happens "today" there."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")


def today() -> date:
    return datetime.now(CHINA).date()
