"""Queries of 两新组织: coverage (组织覆盖 / 工作覆盖) live or as of a date, a monthly series, the Excel
table, and the unit registry (台账). Figures are figures.py; reads read_model.py."""
from __future__ import annotations

import asyncio
import dataclasses
from datetime import date

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from shared.messaging import ok
from shared.service import Context
from services.organizations.clock import today
from services.organizations.contracts import TOKEN_PATTERN, workbook_reply
from services.organizations.enterprises import figures
from services.organizations.enterprises.read_model import live_states
from services.organizations.registry.queries import township_lookup


class CoverageQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    as_of: date | None = Field(None, description="业务日期；省略 = 实时 / business date; omitted = live read-model")
    known_at: AwareDatetime | None = Field(None, description="记录时间：仅此时已记录的事件（审计回放） / recorded "
                                                             "time: only events recorded by then (audit replay)")


class SeriesQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    from_month: date = Field(description="first month (any day of it)")
    to_month: date = Field(description="last month (any day of it)")

    @model_validator(mode="after")
    def _order(self) -> "SeriesQuery":
        if self.to_month < self.from_month:
            raise ValueError("to_month is before from_month")
        if (self.to_month.year - self.from_month.year) * 12 + self.to_month.month - self.from_month.month > 120:
            raise ValueError("at most 120 months")
        return self


class ListEnterprises(BaseModel):
    model_config = ConfigDict(extra="forbid")
    township_id: str | None = Field(None, pattern=TOKEN_PATTERN, description="只列此乡镇 / only this township")


class CoverageRow(BaseModel):
    dimension: str = Field(description="county / township / industry / size_band / unit_type")
    key: str
    in_scope: int = Field(description="应建单位数 / units in scope")
    standalone: int = Field(description="单独组建 / with their own organization")
    joint: int = Field(description="联合组建（含行业、区域、楼宇） / covered by a joint one")
    organized: int
    organization_coverage_rate: float | None = Field(description="组织覆盖率 = organized ÷ in_scope")
    standalone_rate: float | None
    unorganized: int
    work_covered: int = Field(description="工作覆盖 / unorganized with an instructor or a union/youth-league branch")
    work_coverage_rate: float | None = Field(description="工作覆盖率 = work_covered ÷ unorganized")
    mass_orgs_complete: int = Field(description="工青妇健全 / organized units with all of 工会, 共青团, 妇联")
    mass_org_rate: float | None


class UnitRef(BaseModel):
    enterprise_id: str
    name: str
    township_id: str
    reason: str = Field(description="差距原因 / why it falls short")


class TargetResult(BaseModel):
    code: str
    name: str
    kind: str
    rate: float = Field(description="要求 / the target rate")
    population: int = Field(description="涉及单位 / units the target concerns")
    satisfied: int
    achieved: float | None = Field(description="完成率 / satisfied ÷ population; null when no unit is concerned")
    met: bool
    shortfall: list[UnitRef] = Field(description="差距单位 / units that fall short")


class CoverageFigures(BaseModel):
    as_of: date = Field(description="统计日期 / figures as of this date")
    rows: list[CoverageRow] = Field(description="全县、乡镇、行业、规模、类型 / by county, township, industry, size, type")
    targets: list[TargetResult] = Field(description="本县目标任务 / the county's targets, e.g. 4个100%")
    members_without_organization: list[UnitRef] = Field(description="有党员无组织 / full members, no organization")
    no_organization_no_instructor: list[UnitRef] = Field(description="无组织无指导员 / neither")


class TargetMonth(BaseModel):
    code: str
    achieved: float | None
    met: bool
    shortfall: int


class CoverageMonth(BaseModel):
    month: str = Field(description="YYYY-MM")
    as_of: date = Field(description="the month's last day")
    county: CoverageRow | None
    targets: list[TargetMonth]


class CoverageSeries(BaseModel):
    months: list[CoverageMonth] = Field(description="各月月末数据 / figures at each month's end")


class EnterpriseEntry(BaseModel):
    enterprise_id: str
    uscc: str
    name: str
    unit_type: str
    township_id: str
    industry: str
    employees: int
    full_members: int
    probationary_members: int
    status: str = Field(description="operating / suspended / deregistered")
    fixed_premises: bool
    above_scale: bool
    registered_on: date
    organization_id: str | None = None
    founding_mode: str | None = None
    instructor: tuple[str, str] | None = Field(None, description="[姓名, instructor|liaison]")
    mass_organizations: list[str] = Field(description="工青妇 recorded: trade_union, youth_league, womens_federation")


class EnterpriseList(BaseModel):
    total: int = Field(description="符合条件的单位数 / units matching, all pages")
    items: list[EnterpriseEntry] = Field(description="按乡镇、名称 / by township and name")


async def on_coverage(ctx: Context, q: CoverageQuery) -> dict:
    """组织覆盖/工作覆盖 by county, township, industry, size band; targets with shortfalls."""
    if q.as_of is None and q.known_at is None:
        return ok((await figures.live_report(ctx, today()))[1])
    on = q.as_of or today()
    return ok(figures.report_dict(await figures.report_as_of(ctx, on, q.known_at), on))


async def on_coverage_series(ctx: Context, q: SeriesQuery) -> dict:
    """Monthly series of the county figures and targets, folded from the log."""
    return ok({"months": await figures.series(ctx, q.from_month, q.to_month)})


async def on_coverage_export(ctx: Context, q: CoverageQuery) -> dict:
    """The coverage table as an Excel workbook (base64), live or as of a date."""
    on = q.as_of or today()
    live = q.as_of is None and q.known_at is None
    report = (await figures.live_report(ctx, on))[0] if live else await figures.report_as_of(ctx, on, q.known_at)
    towns = {tid: name for name, tid in (await township_lookup(ctx)).items() if name != tid}
    content = await asyncio.to_thread(figures.export_xlsx, report, on, towns)
    return workbook_reply(f"两新组织覆盖情况_{ctx.county}_{on.isoformat()}.xlsx", content)


async def on_list_enterprises(ctx: Context, q: ListEnterprises) -> dict:
    """两新组织台账, optionally of one township."""
    await ctx.service.caught_up(ctx.county, ctx.min_seq)
    states = await asyncio.to_thread(live_states, ctx)
    items = [dataclasses.asdict(s) for s in states if (not q.township_id or s.township_id == q.township_id)
             and ctx.actor.sees(s.township_id, s.organization_id)]  # README: Read rules
    for item in items:
        item["mass_organizations"] = sorted(item["mass_organizations"])
    return ok({"total": len(items), "items": sorted(items, key=lambda i: (i["township_id"], i["name"]))})
