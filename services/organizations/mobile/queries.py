"""Queries of mobile members (流动党员) and service points: the registry, figures by destination and by
service point, members recorded away for the rule table's months but not registered, and the Excel
registries. Members are listed within the caller's scope (by their sending branch); only members in
good standing are counted. Reads are in ledger.py."""
from __future__ import annotations

import asyncio
from collections import Counter
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.messaging import ok
from shared.service import Context
from services.organizations.clock import today
from services.organizations.contracts import NoParameters, TOKEN_PATTERN, workbook_reply
from services.organizations.mobile import ledger
from services.organizations.rules.queries import rules_in_force


class MobileQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Literal["away", "mobile", "returned"] | None = Field(None, description="away 外出未登记 / mobile 流动党员 "
                                                                                  "/ returned 已返回")
    destination: str | None = Field(None, max_length=60, description="流入地 / destination")
    service_point_id: str | None = Field(None, pattern=TOKEN_PATTERN, description="服务站点 / service point")
    branch_id: str | None = Field(None, pattern=TOKEN_PATTERN, description="流出党支部 / sending branch")
    township_id: str | None = Field(None, pattern=TOKEN_PATTERN, description="乡镇 / township")


class FiguresQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    as_of: date | None = Field(None, description="业务日期；默认今天 / business date; default today")


class MobileMemberEntry(BaseModel):
    member_id: str = Field(description="党员编号 / member id")
    name: str | None = Field(None, description="姓名 / name")
    branch_id: str = Field(description="流出党支部（保留组织关系） / sending branch, which keeps the relationship")
    branch_name: str | None = Field(None, description="党支部名称 / its name")
    township_id: str | None = Field(None, description="乡镇 / township")
    status: str = Field(description="away 外出未登记 / mobile 流动党员 / returned 已返回")
    away_since: date = Field(description="外出日期 / away since")
    months_away: int = Field(description="外出整月数（至今或至返回） / whole months away, until today or the return")
    destination: str = Field(description="流入地 / destination")
    contact: str | None = Field(None, description="联系方式 / contact")
    receiving_organization: str | None = Field(None, description="流入地党组织 / receiving organization")
    service_point_id: str | None = Field(None, description="服务站点 / service point id")
    service_point_name: str | None = Field(None, description="服务站点名称 / its name")
    registered_on: date | None = Field(None, description="登记为流动党员日期 / registered as mobile on")
    returned_on: date | None = Field(None, description="返回日期 / back on")


class MobileMemberList(BaseModel):
    items: list[MobileMemberEntry] = Field(description="按外出日期 / by date away")


class DestinationCount(BaseModel):
    destination: str = Field(description="流入地 / destination")
    members: int = Field(description="流动党员人数 / mobile members")


class ServicePointCount(BaseModel):
    service_point_id: str = Field(description="站点编号 / service point id")
    name: str | None = Field(None, description="站点名称 / name")
    members: int = Field(description="联系的流动党员人数 / mobile members it serves")


class MobileFigures(BaseModel):
    as_of: date = Field(description="业务日期（默认今天） / the business date (default today)")
    min_months_away: int = Field(description="规则表：外出多少个月为流动党员 / the rule table's months away")
    mobile_members: int = Field(description="流动党员人数 / mobile members now")
    by_destination: list[DestinationCount] = Field(description="按流入地 / by destination")
    by_service_point: list[ServicePointCount] = Field(description="按服务站点 / by service point")
    away_not_registered: list[MobileMemberEntry] = Field(description="外出满期限仍未登记为流动党员 / away the "
                                                                     "rule table's months or more, not registered")


class ServicePointEntry(BaseModel):
    service_point_id: str = Field(description="站点编号 / id")
    name: str = Field(description="站点名称 / name")
    location: str = Field(description="所在地 / where")
    host: str = Field(description="依托单位 / host")
    contact: str = Field(description="联系人 / contact")
    opened_on: date = Field(description="设立日期 / opened on")
    closed_on: date | None = Field(None, description="撤销日期 / closed on")
    members: int = Field(description="联系的流动党员人数（调用者可见范围） / mobile members it serves (caller's scope)")


class ServicePointList(BaseModel):
    items: list[ServicePointEntry] = Field(description="本县服务站点 / the county's service points")


async def on_list_mobile_members(ctx: Context, q: MobileQuery) -> dict:
    """流动党员台账 (and members recorded away, and those back)."""
    return ok({"items": ledger.filtered(await ledger.records(ctx, today()), q)})


async def on_mobile_figures(ctx: Context, q: FiguresQuery) -> dict:
    """Mobile members by destination and by service point; members away long enough but not registered —
    today, or as they stood on a date."""
    day = q.as_of or today()
    months = (await rules_in_force(ctx, day)).mobile.min_months_away
    rows = await ledger.records(ctx, day, q.as_of)
    mobile = [r for r in rows if r["status"] == "mobile"]
    destinations = Counter(r["destination"] for r in mobile)
    points = Counter(r["service_point_id"] for r in mobile if r["service_point_id"])
    names = {r["service_point_id"]: r["service_point_name"] for r in mobile}
    return ok({"as_of": day.isoformat(), "min_months_away": months, "mobile_members": len(mobile),
               "by_destination": [{"destination": d, "members": n} for d, n in sorted(destinations.items())],
               "by_service_point": [{"service_point_id": p, "name": names.get(p), "members": n}
                                    for p, n in sorted(points.items())],
               "away_not_registered": [r for r in rows if r["status"] == "away" and r["months_away"] >= months]})


async def on_list_service_points(ctx: Context, q: NoParameters) -> dict:
    """流动党员服务站点 with the mobile members each serves."""
    return ok({"items": await ledger.service_points(ctx, today())})


async def on_mobile_members_export(ctx: Context, q: MobileQuery) -> dict:
    """流动党员台账 as an Excel workbook (base64)."""
    rows = ledger.filtered(await ledger.records(ctx, today()), q)
    content = await asyncio.to_thread(ledger.records_xlsx, rows)
    return workbook_reply(f"流动党员台账_{ctx.county}.xlsx", content)


async def on_service_points_export(ctx: Context, q: NoParameters) -> dict:
    """流动党员服务站点 as an Excel workbook (base64)."""
    content = await asyncio.to_thread(ledger.points_xlsx, await ledger.service_points(ctx, today()))
    return workbook_reply(f"流动党员服务站点_{ctx.county}.xlsx", content)
