"""The command of 党籍异动 and its reply. Which change may follow which lives in domain.py."""
from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from services.organizations.contracts import TOKEN_PATTERN, Command

StandingChangeKind = Literal["deceased", "left", "expelled", "suspended", "restored"]


class ChangeStanding(Command):
    """党籍异动 / Record a change of a member's standing: deceased 去世, left 出党（退党、除名）, expelled
    开除党籍, suspended 停止党籍, restored 恢复党籍 — with the reason and who decided."""

    member_id: str = Field(pattern=TOKEN_PATTERN, description="党员编号 / member id")
    change: StandingChangeKind = Field(description="deceased 去世 / left 出党 / expelled 开除党籍 / "
                                                   "suspended 停止党籍 / restored 恢复党籍")
    changed_on: date = Field(description="发生或决定日期 / date it happened or was decided")
    reason: str = Field(min_length=1, max_length=200, description="原因或依据 / reason or the decision it rests on")
    decided_by: str = Field(min_length=1, max_length=40, description="决定机构或登记人 / who decided or recorded it")


class StandingChanged(BaseModel):
    member_id: str = Field(description="党员编号 / member id")
    standing: str = Field(description="现在的党籍状态 / standing now: active, deceased, left, expelled, suspended")
