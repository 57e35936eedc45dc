"""Queries of classification and rectification: the ledger (整顿台账) with its filters, one case with
its timeline, conversion rates (转化率), the Excel ledger, classification history (晋位升级/降级).
Reads are in ledger.py."""
from __future__ import annotations

import asyncio
import base64
from collections import Counter
from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from shared.errors import not_found
from shared.messaging import ok
from shared.service import Context
from services.organizations.campaigns import ledger
from services.organizations.campaigns.commands import CASE_PATTERN
from services.organizations.campaigns.ledger import CaseFilter
from services.organizations.clock import today
from services.organizations.contracts import TOKEN_PATTERN, NoParameters, Workbook


class CaseQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    case_id: str = Field(pattern=CASE_PATTERN, description="整顿案例编号 / case id campaign.organization_id")


class ClassificationQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    organization_id: str | None = Field(None, pattern=TOKEN_PATTERN, description="只看此党组织 / one organization only")


class CaseEntry(BaseModel):
    case_id: str
    organization_id: str
    organization_name: str | None = None
    township_id: str | None = None
    campaign: str
    reasons: list[str] = Field(description="软弱涣散情形编码 / weak reason codes")
    status: str = Field(description="flagged / planned / township_accepted / rectified")
    screened_on: date | None = None
    decided_on: date | None = None
    due_on: date | None = None
    plan: str | None = None
    measures: str | None = None
    liaison_leader: str | None = None
    first_secretary: str | None = None
    first_secretary_to: date | None = None
    secretary: str | None = None
    township_accepted_on: date | None = None
    accepted_on: date | None = None
    follow_up_until: date | None = None
    relapse_of: str | None = None
    progress_reports: int = 0
    overdue: bool = Field(description="超期未销号 / past its due date and not rectified")
    in_follow_up: bool = Field(description="销号后跟踪期内 / within the follow-up year after acceptance")


class CaseList(BaseModel):
    total: int
    items: list[CaseEntry]
    by_township: dict[str, int]
    by_reason: dict[str, int]
    overdue: int


class TimelineStep(BaseModel):
    seq: int
    event_type: str
    on_date: date | None = None
    summary: str | None = None
    actor: str | None = None


class CaseDetail(CaseEntry):
    timeline: list[TimelineStep] = Field(description="每个环节，何时由谁 / every step, when and by whom")


class Conversion(BaseModel):
    key: str = Field(description="批次或年度 / campaign or year")
    listed: int
    rectified: int
    conversion_rate: float = Field(description="转化率 = 销号 ÷ 列入 / rectified ÷ listed")


class RectificationSummary(BaseModel):
    by_campaign: list[Conversion]
    by_year: list[Conversion]
    overdue: list[CaseEntry]
    relapses: list[str] = Field(description="复发案例 / cases that are relapses")


class ClassEntry(BaseModel):
    year: int
    grade: str = Field(description="advanced 先进 / average 一般 / lagging 后进")
    programme: str
    item_set: str
    items: dict[str, bool]
    note: str | None = None
    movement: str | None = Field(None, description="promoted 晋位升级 / demoted 降级 / unchanged")


class ClassificationHistory(BaseModel):
    organizations: dict[str, list[ClassEntry]]
    by_year: dict[str, dict[str, int]]


async def on_list_rectification_cases(ctx: Context, f: CaseFilter) -> dict:
    """The current list by township, reason, campaign, status (open = not yet rectified)."""
    items = ledger.filtered(await ledger.cases(ctx), f, today())
    return ok({"total": len(items), "items": [ledger.jsonable(c) for c in items],
               "by_township": dict(Counter(c["township_id"] for c in items)),
               "by_reason": dict(Counter(r for c in items for r in c["reasons"])),
               "overdue": sum(c["overdue"] for c in items)})


async def on_rectification_case(ctx: Context, q: CaseQuery) -> dict:
    """One case with its timeline (every step, when and by whom)."""
    found = [c for c in await ledger.cases(ctx) if c["case_id"] == q.case_id]
    if not found:
        raise not_found("case_not_found", f"整顿案例不存在 / rectification case {q.case_id} not found", "case_id")
    case = ledger.filtered(found, CaseFilter(), today())[0]
    return ok({**ledger.jsonable(case), "timeline": await ledger.timeline(ctx, q.case_id)})


async def on_rectification_summary(ctx: Context, q: NoParameters) -> dict:
    """Conversion rate (转化率) per campaign and per year; overdue cases; relapses."""
    items = ledger.filtered(await ledger.cases(ctx), CaseFilter(), today())
    return ok({**ledger.conversion(items), "overdue": [ledger.jsonable(c) for c in items if c["overdue"]],
               "relapses": [c["case_id"] for c in items if c["relapse_of"]]})


async def on_rectification_ledger_export(ctx: Context, f: CaseFilter) -> dict:
    """The rectification ledger (整顿台账) as an Excel workbook (base64)."""
    content = await asyncio.to_thread(ledger.ledger_xlsx, ledger.filtered(await ledger.cases(ctx), f, today()))
    return ok(Workbook(filename=f"软弱涣散党组织整顿台账_{ctx.county}.xlsx",
                       content_b64=base64.b64encode(content).decode()))


async def on_classification_history(ctx: Context, q: ClassificationQuery) -> dict:
    """Each organization's classes over the years, with 晋位升级 (promoted) and 降级 (demoted)."""
    return ok(await ledger.classification_history(ctx, q.organization_id))
