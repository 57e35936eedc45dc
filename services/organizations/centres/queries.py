"""Queries of 党群服务中心: the registry (台账), coverage by level as of a date, the standards in force,
and the yearly upgrade plans with their progress. Reads are figures.py."""
from __future__ import annotations

import asyncio
from datetime import date

import orjson
from pydantic import BaseModel, ConfigDict, Field

from shared.catalog.centres import CentreStandards
from shared.messaging import ok
from shared.service import Context
from services.organizations.centres import figures
from services.organizations.clock import today
from services.organizations.contracts import TOKEN_PATTERN


class AsOf(BaseModel):
    model_config = ConfigDict(extra="forbid")
    as_of: date | None = Field(None, description="业务日期；省略 = 今天 / business date; default today")


class ListCentres(BaseModel):
    model_config = ConfigDict(extra="forbid")
    township_id: str | None = Field(None, pattern=TOKEN_PATTERN, description="只列此乡镇 / only this township")
    level: str | None = Field(None, max_length=12, description="只列此层级 / only this level, e.g. village")


class ListUpgrades(BaseModel):
    model_config = ConfigDict(extra="forbid")
    year: int = Field(ge=2000, le=2100, description="年度 / year")
    township_id: str | None = Field(None, pattern=TOKEN_PATTERN, description="只列此乡镇 / only this township")


class StandardsVersions(BaseModel):
    as_of: date = Field(description="查询日期 / the date asked about")
    in_force: CentreStandards = Field(description="该日生效的建设标准 / the standards in force on as_of")
    versions: list[CentreStandards] = Field(description="本县采用过的各版本 / every version the county adopted")


class LevelRow(BaseModel):
    level: str = Field(description="county / township / village / community / park / enterprise / building / all")
    name: str = Field(description="层级名称 / e.g. 村")
    centres: int = Field(description="中心数 / centres")
    stations: int = Field(description="站点数 / stations")
    to_standard: int = Field(description="达标数 / centres and stations to standard")
    plaqued: int = Field(description="已挂牌 / plaqued")
    standard_rate: float | None = Field(description="达标率 = to_standard ÷ (centres + stations)")
    places: int | None = Field(description="应覆盖的县、乡镇、村、社区数 / places of this level (null: not counted)")
    covered: int | None = Field(description="有达标中心的 / places served by a centre to standard")
    coverage_rate: float | None = Field(description="覆盖率 = covered ÷ places")


class PlaceGap(BaseModel):
    level: str = Field(description="county / township / village / community")
    place_id: str = Field(description="县代码、乡镇编号或村（社区）党组织编号 / county code, township or organization id")
    name: str = Field(description="名称 / name")
    township_id: str | None = Field(description="所属乡镇 / township")
    reason: str = Field(description="差距 / why it is not covered")


class CentreCoverage(BaseModel):
    as_of: date = Field(description="统计日期 / figures as of this date")
    standards_from: date = Field(description="所用建设标准的生效日期 / effective date of the standards applied")
    coverage_target: float = Field(description="覆盖率目标 / the county's target")
    target_met: bool = Field(description="total.coverage_rate ≥ coverage_target")
    rows: list[LevelRow] = Field(description="各层级 / one row per level")
    total: LevelRow = Field(description="合计 / all levels")
    shortfall: list[PlaceGap] = Field(description="未覆盖的县、乡镇、村、社区 / places without a centre to standard")


class CentreEntry(BaseModel):
    centre_id: str
    name: str
    kind: str = Field(description="centre / station")
    level: str
    township_id: str | None
    organization_id: str | None = Field(description="所服务的村（社区）党组织 / organization served")
    address: str | None
    floor_area_m2: int
    zones: list[str]
    windows: list[str]
    signage: bool
    night_visible: bool
    opened_on: date
    inspected_on: date | None = Field(description="最近核查日期 / last inspection")
    to_standard: bool = Field(description="最近核查达标 / the last inspection found it to standard")
    missing: list[str] = Field(description="最近核查未达到的标准 / standards the last inspection found missing")
    plaqued_on: date | None = Field(description="挂牌日期（核查未达标即摘牌） / plaqued on (removed by a failed inspection)")
    closed_on: date | None = Field(None, description="关闭日期 / closed on (no longer counted)")
    closed_reason: str | None = Field(None, description="关闭原因 / why it was closed")


class CentreList(BaseModel):
    total: int = Field(description="中心数 / centres listed")
    items: list[CentreEntry] = Field(description="按层级、乡镇、名称 / by level, township, name")


class UpgradeEntry(BaseModel):
    centre_id: str
    name: str
    level: str
    township_id: str | None
    kind: str = Field(description="upgrade 提升改造 / optimize 优化")
    items: list[str] = Field(description="改造内容 / what is to be done")
    due_on: date
    percent: int = Field(description="进度（%） / progress")
    status: str = Field(description="done 已完成 / in_progress 推进中 / overdue 逾期 / not_started 未开始")
    note: str | None = Field(description="最近进展 / last progress note")
    reported_on: date | None


class UpgradeList(BaseModel):
    year: int = Field(description="年度 / year")
    planned: int = Field(description="计划数 / plans")
    done: int = Field(description="已完成 / done")
    overdue: int = Field(description="逾期未完成 / past due, not done")
    items: list[UpgradeEntry] = Field(description="各中心计划 / one plan per centre, by township and name")


async def on_centre_standards(ctx: Context, q: AsOf) -> dict:
    """The standards per level in force on a date (default today) and every adopted version."""
    book, on = await figures.standards_book(ctx), q.as_of or today()
    return ok({"as_of": on.isoformat(), "in_force": book.in_force(on).model_dump(mode="json"),
               "versions": [v.model_dump(mode="json") for v in book.versions]})


async def on_centre_coverage(ctx: Context, q: AsOf) -> dict:
    """达标率 and 覆盖率 by level as of a date (default today), folded from the log; over the reader's
    township for a township operator, refused to a branch secretary (README: Read rules)."""
    report = await figures.coverage_as_of(ctx, q.as_of or today())
    return ok(CentreCoverage.model_validate(report).model_dump(mode="json"))


def _entry(row: dict) -> dict:
    return {**row, "zones": _split(row["zones"]), "windows": _split(row["windows"]),
            "missing": _split(row.get("missing"))}


def _split(value: str | None) -> list[str]:
    return [v for v in (value or "").split(",") if v]


async def centre_entries(ctx: Context, township_id: str | None = None, level: str | None = None) -> list[dict]:
    await ctx.service.caught_up(ctx.county, ctx.min_seq)
    found = await asyncio.to_thread(figures.rows, ctx, "centres", township_id=township_id, level=level)
    return sorted((_entry(r) for r in found if _sees(ctx, r)), key=lambda r: (r["level"], r["township_id"] or "",
                                                                              r["name"]))


def _sees(ctx: Context, centre: dict) -> bool:
    """README: Read rules — a township operator reads their township's centres, a branch secretary the
    centre of the village or community their branch heads."""
    return ctx.actor.sees(centre["township_id"], centre["organization_id"])


async def on_list_centres(ctx: Context, q: ListCentres) -> dict:
    """党群服务中心台账, optionally of one township or level."""
    items = await centre_entries(ctx, q.township_id, q.level)
    return ok({"total": len(items), "items": items})


async def on_list_centre_upgrades(ctx: Context, q: ListUpgrades) -> dict:
    """A year's upgrade plans with their progress (逾期 = past due and not done)."""
    await ctx.service.caught_up(ctx.county, ctx.min_seq)
    centres = {r["centre_id"]: r for r in await asyncio.to_thread(figures.rows, ctx, "centres",
                                                                  township_id=q.township_id) if _sees(ctx, r)}
    plans = await asyncio.to_thread(figures.rows, ctx, "upgrades", year=q.year)
    day, items = today(), []
    for p in plans:
        centre = centres.get(p["centre_id"])
        if centre is None:
            continue
        status = ("done" if p["percent"] == 100 else "overdue" if p["due_on"] < day
                  else "in_progress" if p["percent"] else "not_started")
        items.append({**p, "name": centre["name"], "level": centre["level"], "township_id": centre["township_id"],
                      "items": orjson.loads(p["items"]), "status": status})
    items.sort(key=lambda i: (i["township_id"] or "", i["name"]))
    return ok({"year": q.year, "planned": len(items), "done": sum(i["status"] == "done" for i in items),
               "overdue": sum(i["status"] == "overdue" for i in items), "items": items})
