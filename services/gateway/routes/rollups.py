"""Provincial rollups (issue 14): coverage, star distribution and rectification conversion per county and
in total, for a province_admin token (the counties whose division code starts with its prefix) or a
platform admin. Each county's figures come from its own services' read-models and log
(services/organizations/rollups, services/ratings/rollup.py); this module only adds them up."""
from __future__ import annotations

import asyncio
from collections import Counter
from datetime import date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from services.gateway.auth import current_actor
from services.gateway.params import IsoDate
from services.gateway.problems import PROBLEM_RESPONSES
from services.organizations.rollups.queries import ConversionFigure, CoverageFigure, rate
from services.ratings.rollup import StarFigure
from shared.auth import PROVINCE_READERS, Actor
from shared.errors import forbidden
from shared.ids import PLATFORM  # queries spanning counties: pb.platform.qry.<service>.<name>

router = APIRouter(prefix="/api/v1", tags=["rollups"], responses=PROBLEM_RESPONSES)
PARALLEL = 8  # counties asked at once


class Figures(BaseModel):
    coverage: CoverageFigure = Field(description="两新组织覆盖 / coverage")
    stars: StarFigure = Field(description="星级分布（统计日期所在年度） / star distribution of the date's rating year")
    rectification: ConversionFigure = Field(description="软弱涣散整顿转化率 / rectification conversion")


class CountyFigures(Figures):
    county: str = Field(description="6位行政区划代码 / county code")
    name: str | None = Field(None, description="县（区）名称 / county name")


class Rollup(BaseModel):
    as_of: date = Field(description="统计日期 / figures as of this date")
    prefix: str = Field(description="区划代码前缀 / the division-code prefix the figures cover ('' = all)")
    counties: list[CountyFigures] = Field(description="各县数据（按代码） / per county, by code")
    total: Figures = Field(description="合计（比率按合计重算） / totals; rates recomputed from the sums")


async def province_reader(actor: Annotated[Actor, Depends(current_actor)]) -> Actor:
    if actor.role not in PROVINCE_READERS:
        raise forbidden("仅省、市级管理员可查看汇总 / only a province_admin (or platform_admin) reads rollups")
    return actor


def total(rows: list[CountyFigures], year: int) -> Figures:
    cov = {k: sum(getattr(r.coverage, k) for r in rows) for k in ("in_scope", "organized", "unorganized",
                                                                 "work_covered")}
    by_stars: Counter = Counter()
    for r in rows:
        by_stars.update(r.stars.members_by_stars)
    listed, done = sum(r.rectification.listed for r in rows), sum(r.rectification.rectified for r in rows)
    return Figures(
        coverage=CoverageFigure(**cov, organization_coverage_rate=rate(cov["organized"], cov["in_scope"]),
                                work_coverage_rate=rate(cov["work_covered"], cov["unorganized"])),
        stars=StarFigure(year=year, members_rated=sum(r.stars.members_rated for r in rows),
                         members_by_stars=dict(sorted(by_stars.items(), key=lambda kv: int(kv[0]))),
                         organizations_rated=sum(r.stars.organizations_rated for r in rows),
                         class_one=sum(r.stars.class_one for r in rows), class_two=sum(r.stars.class_two for r in rows)),
        rectification=ConversionFigure(listed=listed, rectified=done, conversion_rate=rate(done, listed)))


@router.get("/rollups", response_model=Rollup, summary="省（市）级汇总 / per-county and total figures")
async def rollup(request: Request, actor: Annotated[Actor, Depends(province_reader)],
                 as_of: Annotated[IsoDate | None, Query(description="统计日期；省略 = 今天 / default: today")] = None,
                 prefix: Annotated[str | None, Query(pattern=r"^[1-9]\d{1,5}$", description="只看此前缀下的县 / "
                                                     "only counties under this prefix (within the token's)")] = None,
                 ) -> Any:
    """覆盖率、星级分布、整顿转化率: each county the token covers, and the totals, as of a date."""
    on = as_of or datetime.now(ZoneInfo("Asia/Shanghai")).date()
    own = actor.scope_prefix or ""
    if prefix and not prefix.startswith(own):
        raise forbidden(f"前缀 {prefix} 超出令牌范围 {own} / prefix {prefix} is outside the token's {own}")
    client = request.app.state.client
    listed = (await client.query(PLATFORM, "organizations", "rollup_counties", actor, {})).data["items"]
    counties = [c for c in listed if c["county"].startswith(prefix or own)]
    gate = asyncio.Semaphore(PARALLEL)

    async def one(c: dict) -> CountyFigures:
        async with gate:
            orgs, stars = await asyncio.gather(
                client.query(c["county"], "organizations", "county_rollup", actor, {"as_of": on.isoformat()}),
                client.query(c["county"], "ratings", "county_rollup", actor, {"year": on.year}))
        return CountyFigures(county=c["county"], name=c["name"], stars=stars.data, **orgs.data)

    rows = list(await asyncio.gather(*(one(c) for c in counties)))
    return Rollup(as_of=on, prefix=prefix or own, counties=rows, total=total(rows, on.year))
