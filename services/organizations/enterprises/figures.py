"""Coverage figures for the queries: live (from the coverage read-model, cached while nothing
changed), as of a past date and as a monthly series (folded from the log each time, so a past figure
can never drift from the events), and the Excel table county staff exchange."""
from __future__ import annotations

import asyncio
import calendar
import dataclasses
import io
import weakref
from datetime import date, datetime

from shared.spreadsheet import cells
from shared.service import Context
from services.organizations import scope
from services.organizations.enterprises.coverage import CoverageReport, coverage
from services.organizations.enterprises.domain import fold_as_of, fold_month_ends
from services.organizations.enterprises.read_model import COVERAGE, enterprise_events, live_states
from services.organizations.rules.domain import RuleBook
from services.organizations.rules.queries import rule_book

DIMENSION_NAMES = {"county": "全县", "township": "乡镇", "industry": "行业", "size_band": "规模", "unit_type": "类型"}


def report_dict(report: CoverageReport, on: date) -> dict:
    return {"as_of": on.isoformat(), **dataclasses.asdict(report)}


def month_ends(first: date, last: date) -> list[date]:
    out, y, m = [], first.year, first.month
    while (y, m) <= (last.year, last.month):
        out.append(date(y, m, calendar.monthrange(y, m)[1]))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


# per service object, weakly (an id() key could be reused by a later object and serve it another's figures)
_live_cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_series_cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def in_view(ctx: Context, states):
    """The units whose figures the actor reads (README: Read rules): the county department and auditors
    the county's, a township operator their township's (every row and list then counts only those);
    a branch secretary none (refused)."""
    scope.check_not_branch_secretary_read(ctx.actor, "两新组织覆盖情况 / coverage figures")
    if ctx.actor.sees_whole_county:
        return states
    units = states.values() if isinstance(states, dict) else states
    return [s for s in units if s.township_id == ctx.actor.township]


async def live_report(ctx: Context, today: date) -> tuple[CoverageReport, dict]:
    """Computed from the live rows; reused while the read-model (its checkpoint) and the rules
    in force have not changed, so dashboards polling the figure cost nothing between changes."""
    await ctx.service.caught_up(ctx.county, ctx.min_seq)
    loaded = await ctx.service.repo.get(ctx.county, RuleBook, ctx.county)  # its version keys the cache
    if not ctx.actor.sees_whole_county:  # a township's own figures: not the cached county report
        states = in_view(ctx, await asyncio.to_thread(live_states, ctx))
        report = await asyncio.to_thread(coverage, states, loaded.state.in_force(today), county=ctx.county)
        return report, report_dict(report, today)
    runner = ctx.service.runners.get((COVERAGE, ctx.county))
    key = (ctx.county, runner.checkpoint if runner else None, loaded.version, today)
    cache: dict[tuple, tuple[CoverageReport, dict]] = _live_cache.setdefault(ctx.service, {})
    if runner is not None and key in cache:
        return cache[key]
    states = await asyncio.to_thread(live_states, ctx)
    report = await asyncio.to_thread(coverage, states, loaded.state.in_force(today), county=ctx.county)
    as_dict = await asyncio.to_thread(report_dict, report, today)
    for stale in [k for k in cache if k[0] == ctx.county]:
        del cache[stale]
    cache[key] = (report, as_dict)
    return report, as_dict


async def report_as_of(ctx: Context, on: date, known_at: datetime | None = None) -> CoverageReport:
    """The figures on a business date: the units folded from the log up to it, the rules in force then;
    with `known_at`, as the county knew them at that time (events and rule versions recorded by then)."""
    book = await rule_book(ctx, known_at)
    events = await enterprise_events(ctx, known_at)
    return await asyncio.to_thread(
        lambda: coverage(in_view(ctx, fold_as_of(events, on)), book.in_force(on), county=ctx.county))


async def series(ctx: Context, first: date, last: date) -> list[dict]:
    """Month by month (each month's last day): the county row and each target's achievement. The units
    are folded once over all month ends (fold_month_ends: each month refolds only the units it changed),
    and the figures without the units' lists; the answer is reused until the coverage read-model's
    checkpoint (so a new 两新组织 event) or the rule book changes, as the live report is."""
    scope.check_not_branch_secretary_read(ctx.actor, "两新组织覆盖情况 / coverage figures")
    runner = ctx.service.runners.get((COVERAGE, ctx.county))
    loaded = await ctx.service.repo.get(ctx.county, RuleBook, ctx.county)
    viewer = None if ctx.actor.sees_whole_county else ctx.actor.township
    key = ("series", ctx.county, runner.checkpoint if runner else None, loaded.version, first, last, viewer)
    cache: dict[tuple, list[dict]] = _series_cache.setdefault(ctx.service, {})
    if runner is not None and key in cache:
        return cache[key]
    book, events = loaded.state, await enterprise_events(ctx)

    def months() -> list[dict]:
        out = []
        for end, units in fold_month_ends(events, month_ends(first, last)):
            rep = coverage(in_view(ctx, units), book.in_force(end), county=ctx.county, details=False)
            county_row = rep.row("county", ctx.county)
            out.append({"month": end.strftime("%Y-%m"), "as_of": end.isoformat(),
                        "county": dataclasses.asdict(county_row) if county_row else None,
                        "targets": [{"code": t.code, "achieved": t.achieved, "met": t.met,
                                     "shortfall": t.population - t.satisfied} for t in rep.targets]})
        return out
    result = await asyncio.to_thread(months)
    if runner is not None:
        for stale in [k for k in cache if k[1] == ctx.county and k[2] != key[2]]:
            del cache[stale]
        if len(cache) > 64:  # other ranges and viewers of the same checkpoint: keep it small
            cache.clear()
        cache[key] = result
    return result


def export_xlsx(report: CoverageReport, on: date, townships: dict[str, str] | None = None) -> bytes:
    """The coverage table as county staff exchange it (覆盖情况统计表), townships by name."""
    town = (townships or {}).get
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "覆盖情况"
    ws.append([f"两新组织党组织覆盖情况统计表（截至 {on.isoformat()}）"])
    ws.append(["维度", "名称", "应建单位数", "单独组建", "联合组建", "已建党组织", "组织覆盖率", "单独组建率",
               "未建党组织", "工作覆盖", "工作覆盖率", "工青妇健全", "工青妇健全率"])
    for r in report.rows:
        key = town(r.key, r.key) if r.dimension == "township" else r.key
        ws.append(cells([DIMENSION_NAMES.get(r.dimension, r.dimension), key, r.in_scope, r.standalone, r.joint,
                   r.organized, r.organization_coverage_rate, r.standalone_rate, r.unorganized, r.work_covered,
                   r.work_coverage_rate, r.mass_orgs_complete, r.mass_org_rate]))
    targets = wb.create_sheet("目标任务")
    targets.append(["目标", "要求", "涉及单位", "达标单位", "完成率", "是否完成", "差距单位数"])
    for t in report.targets:
        targets.append(cells([t.name, t.rate, t.population, t.satisfied, t.achieved, "是" if t.met else "否",
                        len(t.shortfall)]))
    gaps = wb.create_sheet("差距清单")
    gaps.append(["目标/清单", "单位编号", "单位名称", "乡镇", "原因"])
    for t in report.targets:
        for u in t.shortfall:
            gaps.append(cells([t.name, u.enterprise_id, u.name, town(u.township_id, u.township_id), u.reason]))
    for label, units in (("有党员无组织", report.members_without_organization),
                         ("无组织无指导员", report.no_organization_no_instructor)):
        for u in units:
            gaps.append(cells([label, u.enterprise_id, u.name, town(u.township_id, u.township_id), u.reason]))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
