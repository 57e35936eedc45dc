"""Rollup queries of the organizations service: the counties a province token covers, and one county's
coverage (组织覆盖/工作覆盖) and rectification conversion (转化率) as of a date. The gateway asks each
county in turn and adds them up (services/gateway/routes/rollups.py)."""
from __future__ import annotations

import asyncio
from datetime import date

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from shared.messaging import ok
from shared.service import Context
from services.organizations.campaigns.ledger import case_rows
from services.organizations.contracts import NoParameters
from services.organizations.enterprises.figures import report_as_of
from services.organizations.registry.projections.registry import RegistryProjection


class RollupQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    as_of: date = Field(description="统计日期 / figures as of this business date")


class CountyEntry(BaseModel):
    county: str = Field(description="6位行政区划代码 / county code")
    name: str | None = Field(None, description="县（区）名称 / name")


class CountyList(BaseModel):
    items: list[CountyEntry] = Field(description="令牌范围内已开通的县 / the counties the token covers, by code")


class CoverageFigure(BaseModel):
    in_scope: int = Field(description="应建单位数 / units in scope")
    organized: int = Field(description="已建党组织 / with an own or joint organization")
    organization_coverage_rate: float | None = Field(description="组织覆盖率 = organized ÷ in_scope")
    unorganized: int = Field(description="未建党组织 / in scope without one")
    work_covered: int = Field(description="工作覆盖 / unorganized with an instructor or a union/youth-league branch")
    work_coverage_rate: float | None = Field(description="工作覆盖率 = work_covered ÷ unorganized")


class ConversionFigure(BaseModel):
    listed: int = Field(description="列入整顿的党组织（截至统计日期） / cases decided by the date")
    rectified: int = Field(description="已销号（截至统计日期） / of them accepted (销号) by the date")
    conversion_rate: float | None = Field(description="转化率 = rectified ÷ listed")


class OrganizationsRollup(BaseModel):
    coverage: CoverageFigure = Field(description="两新组织覆盖 / coverage of the county")
    rectification: ConversionFigure = Field(description="软弱涣散整顿转化 / rectification conversion")


def rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


async def on_rollup_counties(ctx: Context, q: NoParameters) -> dict:
    """The counties set up in this deployment that the token covers (pb.platform.qry…)."""
    def load(ctx: Context) -> list[dict]:
        c = ctx.service.projection(RegistryProjection).counties.c
        with ctx.service.engine.connect() as conn:
            rows = conn.execute(select(c.county, c.name).order_by(c.county)).all()
        return [{"county": county, "name": name} for county, name in rows if ctx.actor.covers(county)]
    return ok({"items": await asyncio.to_thread(load, ctx)})


async def on_county_rollup(ctx: Context, q: RollupQuery) -> dict:
    """One county's coverage (folded from its log up to the date, rules then in force) and conversion."""
    report = await report_as_of(ctx, q.as_of)
    row = report.row("county", ctx.county)
    in_scope, organized = (row.in_scope, row.organized) if row else (0, 0)
    unorganized, work = (row.unorganized, row.work_covered) if row else (0, 0)
    await ctx.service.caught_up(ctx.county, ctx.min_seq)
    cases = [c for c in await asyncio.to_thread(case_rows, ctx) if c["decided_on"] and c["decided_on"] <= q.as_of]
    done = sum(1 for c in cases if c["status"] == "rectified" and c["accepted_on"] and c["accepted_on"] <= q.as_of)
    return ok(OrganizationsRollup(
        coverage=CoverageFigure(in_scope=in_scope, organized=organized,
                                organization_coverage_rate=rate(organized, in_scope), unorganized=unorganized,
                                work_covered=work, work_coverage_rate=rate(work, unorganized)),
        rectification=ConversionFigure(listed=len(cases), rectified=done, conversion_rate=rate(done, len(cases)))))
