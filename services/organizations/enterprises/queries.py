"""Coverage queries: live (from the coverage read-model), as of a past date and as a monthly
series (folded from the log each time, so a past figure can never drift from the events)."""
from __future__ import annotations

import asyncio
import base64
import calendar
import dataclasses
import io
import weakref
from datetime import date

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import select

from shared.messaging import ok
from shared.service import Context, Routes
from services.organizations.coverage import CoverageReport, coverage
from services.organizations.enterprises import fold_as_of
from services.organizations.projections.coverage import CoverageProjection, state_from_row
from services.organizations.rulebook import RuleBook

DIMENSION_NAMES = {"county": "全县", "township": "乡镇", "industry": "行业", "size_band": "规模", "unit_type": "类型"}


class CoverageQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    as_of: date | None = Field(None, description="business date; omitted = live read-model")


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


def report_dict(report: CoverageReport, on: date) -> dict:
    return {"as_of": on.isoformat(), **dataclasses.asdict(report)}


def month_ends(first: date, last: date) -> list[date]:
    out, y, m = [], first.year, first.month
    while (y, m) <= (last.year, last.month):
        out.append(date(y, m, calendar.monthrange(y, m)[1]))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _live_states(ctx: Context) -> list:
    p = ctx.service.projection(CoverageProjection)
    with ctx.service.engine.connect() as conn:
        rows = conn.execute(select(p.units).where(p.units.c.county == ctx.county)).all()
    return [state_from_row(r) for r in rows]


async def _log_events(ctx: Context) -> list:
    """Every 两新组织 event of the county, in log order (Direct Get batches on the enterprise subjects)."""
    return [ev.event async for ev in ctx.service.store.read_matching(ctx.county, f"pb.{ctx.county}.evt.org.enterprise.>")]


# per service object, weakly (an id() key could be reused by a later object and serve it another's figures)
_live_cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


async def live_report(ctx: Context, today: date) -> CoverageReport:
    return (await _live(ctx, today))[0]


async def _live(ctx: Context, today: date) -> tuple[CoverageReport, dict]:
    """Computed from the live rows; reused while the read-model (its checkpoint) and the rules
    in force have not changed, so dashboards polling the figure cost nothing between changes."""
    await ctx.service.caught_up(ctx.county, ctx.min_seq)
    loaded = await ctx.service.repo.get(ctx.county, RuleBook, ctx.county)
    runner = ctx.service.runners.get(("organizations.coverage", ctx.county))
    key = (ctx.county, runner.checkpoint if runner else None, loaded.version, today)
    cache: dict[tuple, tuple[CoverageReport, dict]] = _live_cache.setdefault(ctx.service, {})
    if runner is not None and key in cache:
        return cache[key]
    states = await asyncio.to_thread(_live_states, ctx)
    report = await asyncio.to_thread(coverage, states, loaded.state.in_force(today), county=ctx.county)
    as_dict = await asyncio.to_thread(report_dict, report, today)
    for stale in [k for k in cache if k[0] == ctx.county]:
        del cache[stale]
    cache[key] = (report, as_dict)
    return report, as_dict


async def report_as_of(ctx: Context, on: date) -> CoverageReport:
    book = (await ctx.service.repo.get(ctx.county, RuleBook, ctx.county)).state
    events = await _log_events(ctx)
    return await asyncio.to_thread(lambda: coverage(fold_as_of(events, on), book.in_force(on), county=ctx.county))


def export_xlsx(report: CoverageReport, on: date) -> bytes:
    """The coverage table as county staff exchange it (覆盖情况统计表)."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "覆盖情况"
    ws.append([f"两新组织党组织覆盖情况统计表（截至 {on.isoformat()}）"])
    ws.append(["维度", "名称", "应建单位数", "单独组建", "联合组建", "已建党组织", "组织覆盖率", "单独组建率",
               "未建党组织", "工作覆盖", "工作覆盖率", "工青妇健全", "工青妇健全率"])
    for r in report.rows:
        ws.append([DIMENSION_NAMES.get(r.dimension, r.dimension), r.key, r.in_scope, r.standalone, r.joint,
                   r.organized, r.organization_coverage_rate, r.standalone_rate, r.unorganized, r.work_covered,
                   r.work_coverage_rate, r.mass_orgs_complete, r.mass_org_rate])
    targets = wb.create_sheet("目标任务")
    targets.append(["目标", "要求", "涉及单位", "达标单位", "完成率", "是否完成", "差距单位数"])
    for t in report.targets:
        targets.append([t.name, t.rate, t.population, t.satisfied, t.achieved, "是" if t.met else "否",
                        len(t.shortfall)])
    gaps = wb.create_sheet("差距清单")
    gaps.append(["目标/清单", "单位编号", "单位名称", "乡镇", "原因"])
    for t in report.targets:
        for u in t.shortfall:
            gaps.append([t.name, u.enterprise_id, u.name, u.township_id, u.reason])
    for label, units in (("有党员无组织", report.members_without_organization),
                         ("无组织无指导员", report.no_organization_no_instructor)):
        for u in units:
            gaps.append([label, u.enterprise_id, u.name, u.township_id, u.reason])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def register(routes: Routes, today) -> None:
    @routes.query("coverage")
    async def on_coverage(ctx: Context) -> dict:
        """组织覆盖/工作覆盖 by county, township, industry, size band; targets with shortfalls."""
        q = CoverageQuery.model_validate(ctx.data)
        if q.as_of is None:
            return ok((await _live(ctx, today()))[1])
        return ok(report_dict(await report_as_of(ctx, q.as_of), q.as_of))

    @routes.query("coverage_series")
    async def on_coverage_series(ctx: Context) -> dict:
        """Monthly series of the county figures and targets, folded from the log."""
        q = SeriesQuery.model_validate(ctx.data)
        book = (await ctx.service.repo.get(ctx.county, RuleBook, ctx.county)).state
        events = await _log_events(ctx)

        def series() -> list[dict]:
            out = []
            for end in month_ends(q.from_month, q.to_month):
                rep = coverage(fold_as_of(events, end), book.in_force(end), county=ctx.county)
                county_row = rep.row("county", ctx.county)
                out.append({"month": end.strftime("%Y-%m"), "as_of": end.isoformat(),
                            "county": dataclasses.asdict(county_row) if county_row else None,
                            "targets": [{"code": t.code, "achieved": t.achieved, "met": t.met,
                                         "shortfall": len(t.shortfall)} for t in rep.targets]})
            return out
        return ok({"months": await asyncio.to_thread(series)})

    @routes.query("coverage_export")
    async def on_coverage_export(ctx: Context) -> dict:
        """The coverage table as an Excel workbook (base64), live or as of a date."""
        q = CoverageQuery.model_validate(ctx.data)
        on = q.as_of or today()
        report = await live_report(ctx, on) if q.as_of is None else await report_as_of(ctx, on)
        content = await asyncio.to_thread(export_xlsx, report, on)
        return ok({"filename": f"两新组织覆盖情况_{ctx.county}_{on.isoformat()}.xlsx",
                   "content_b64": base64.b64encode(content).decode()})

    @routes.query("rules")
    async def on_rules(ctx: Context) -> dict:
        """The rule table in force on a date (default today) and every adopted version."""
        q = CoverageQuery.model_validate(ctx.data)
        book = (await ctx.service.repo.get(ctx.county, RuleBook, ctx.county)).state
        on = q.as_of or today()
        return ok({"as_of": on.isoformat(), "in_force": book.in_force(on).model_dump(mode="json"),
                   "versions": [v.model_dump(mode="json") for v in book.versions]})

    @routes.query("list_enterprises")
    async def on_list_enterprises(ctx: Context) -> dict:
        """两新组织台账, optionally of one township."""
        await ctx.service.caught_up(ctx.county, ctx.min_seq)
        township = ctx.data.get("township_id")
        states = await asyncio.to_thread(_live_states, ctx)
        items = [dataclasses.asdict(s) for s in states if not township or s.township_id == township]
        for item in items:
            item["mass_organizations"] = sorted(item["mass_organizations"])
        return ok({"total": len(items), "items": sorted(items, key=lambda i: (i["township_id"], i["name"]))})
