"""Queries of classification and rectification: the ledger (整顿台账) with its filters, one case with
its timeline, conversion rates (转化率), the Excel ledger, classification history (晋位升级/降级).
Reads are in ledger.py."""
from __future__ import annotations

import asyncio
from collections import Counter
from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from shared.errors import not_found
from shared.messaging import ok
from shared.service import Context
from services.organizations import scope
from services.organizations.campaigns import ledger
from services.organizations.campaigns.commands import CASE_PATTERN
from services.organizations.campaigns.ledger import CaseFilter
from services.organizations.clock import today
from services.organizations.contracts import NoParameters, TOKEN_PATTERN, workbook_reply


class CaseQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    case_id: str = Field(pattern=CASE_PATTERN, description="整顿案例编号 / case id campaign.organization_id")


class ClassificationQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    organization_id: str | None = Field(None, pattern=TOKEN_PATTERN, description="只看此党组织 / one organization only")


class CaseEntry(BaseModel):
    case_id: str = Field(description="整顿案例编号 / case id")
    organization_id: str = Field(description="党组织编号 / the organization")
    organization_name: str | None = Field(None, description="党组织名称 / its name")
    township_id: str | None = Field(None, description="所属乡镇 / its township")
    campaign: str = Field(description="整顿批次 / campaign, e.g. 2026")
    reasons: list[str] = Field(description="软弱涣散情形编码 / weak reason codes")
    status: str = Field(description="flagged / planned / township_accepted / rectified")
    screened_on: date | None = Field(None, description="乡镇排查日期 / screened by the township on")
    decided_on: date | None = Field(None, description="县委确定日期 / listed by the county committee on")
    due_on: date | None = Field(None, description="整顿期限 / due date")
    plan: str | None = Field(None, description="一村一策 整顿方案 / the rectification plan")
    measures: str | None = Field(None, description="整顿措施 / measures")
    liaison_leader: str | None = Field(None, description="县级包联领导 / county leader in contact")
    first_secretary: str | None = Field(None, description="第一书记 / first secretary sent")
    first_secretary_to: date | None = Field(None, description="第一书记任期至 / first secretary serves until")
    secretary: str | None = Field(None, description="调整后的书记 / the new secretary")
    township_accepted_on: date | None = Field(None, description="乡镇验收日期 / accepted by the township on")
    accepted_on: date | None = Field(None, description="县级验收销号日期 / delisted on")
    follow_up_until: date | None = Field(None, description="跟踪期至 / follow-up until")
    relapse_of: str | None = Field(None, description="复发：此前的案例 / the earlier case this relapses")
    progress_reports: int = Field(0, description="进展报告次数 / progress reports recorded")
    overdue: bool = Field(description="超期未销号 / past its due date and not rectified")
    in_follow_up: bool = Field(description="销号后跟踪期内 / within the follow-up year after acceptance")


class CaseList(BaseModel):
    total: int = Field(description="符合条件的案例数 / cases matching")
    items: list[CaseEntry] = Field(description="整顿案例 / the cases")
    by_township: dict[str, int] = Field(description="按乡镇计数 / cases per township")
    by_reason: dict[str, int] = Field(description="按软弱涣散情形计数 / cases per weak reason")
    overdue: int = Field(description="超期未销号的案例数 / cases past their due date")


class TimelineStep(BaseModel):
    seq: int = Field(description="事件流序号 / stream sequence of the event")
    event_type: str = Field(description="事件类型 / event type")
    on_date: date | None = Field(None, description="业务日期 / business date")
    summary: str | None = Field(None, description="摘要 / summary")
    actor: str | None = Field(None, description="记录人 / who recorded it")


class CaseDetail(CaseEntry):
    timeline: list[TimelineStep] = Field(description="每个环节，何时由谁 / every step, when and by whom")


class Conversion(BaseModel):
    key: str = Field(description="批次或年度 / campaign or year")
    listed: int = Field(description="列入数 / organizations listed")
    rectified: int = Field(description="销号数 / organizations rectified")
    conversion_rate: float = Field(description="转化率 = 销号 ÷ 列入 / rectified ÷ listed")


class RectificationSummary(BaseModel):
    by_campaign: list[Conversion] = Field(description="按批次的转化率 / conversion by campaign")
    by_year: list[Conversion] = Field(description="按年度的转化率 / conversion by year")
    overdue: list[CaseEntry] = Field(description="超期未销号案例 / cases past their due date")
    relapses: list[str] = Field(description="复发案例 / cases that are relapses")


class ClassEntry(BaseModel):
    year: int = Field(description="定级年度 / year")
    grade: str = Field(description="advanced 先进 / average 一般 / lagging 后进")
    programme: str = Field(description="showcase 示范 / improve 提升 / remedy 治弱")
    item_set: str = Field(description="five_goods 五个好 / two_strongs_six_goods 双强六好")
    items: dict[str, bool] = Field(description="各项是否达到 / each item met or not")
    note: str | None = Field(None, description="备注 / note")
    movement: str | None = Field(None, description="promoted 晋位升级 / demoted 降级 / unchanged")


class ClassificationHistory(BaseModel):
    organizations: dict[str, list[ClassEntry]] = Field(description="各党组织逐年定级 / each organization's grades by year")
    by_year: dict[str, dict[str, int]] = Field(description="各年度各等次数量 / count of each grade per year")


async def on_list_rectification_cases(ctx: Context, f: CaseFilter) -> dict:
    """The current list by township, reason, campaign, status (open = not yet rectified)."""
    items = ledger.filtered(await ledger.cases(ctx), f, today())
    return ok({"total": len(items), "items": [ledger.jsonable(c) for c in items],
               "by_township": dict(Counter(c["township_id"] for c in items)),
               "by_reason": dict(Counter(r for c in items for r in c["reasons"])),
               "overdue": sum(c["overdue"] for c in items)})


async def on_rectification_case(ctx: Context, q: CaseQuery) -> dict:
    """One case with its timeline (every step, when and by whom)."""
    found = [c for c in await ledger.cases(ctx, in_scope_only=False) if c["case_id"] == q.case_id]
    if not found:
        raise not_found("case_not_found", f"整顿案例不存在 / rectification case {q.case_id} not found", "case_id")
    scope.check_sees(ctx.actor, found[0]["township_id"], found[0]["organization_id"], f"整顿案例 / case {q.case_id}")
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
    return workbook_reply(f"软弱涣散党组织整顿台账_{ctx.county}.xlsx", content)


async def on_classification_history(ctx: Context, q: ClassificationQuery) -> dict:
    """Each organization's classes over the years, with 晋位升级 (promoted) and 降级 (demoted)."""
    return ok(await ledger.classification_history(ctx, q.organization_id))
