"""Reads of the organizations.mobile read-model joined with the registry (names, the branch that now
holds the relationship, standing), within the caller's scope, and the Excel registries."""
from __future__ import annotations

import asyncio
import io
from datetime import date
from collections.abc import Iterable
from typing import Any


from shared.catalog.base import DomainEvent
from shared.catalog.mobile import MemberAwayRecorded, MobileMemberRegistered, MobileMemberReturned
from shared.rows import county_rows
from shared.service import Context
from services.organizations.mobile.projections.mobile import MobileProjection
from services.organizations.registry.queries import members_by_id, organizations_by_id
from services.organizations.scope import may_read

STATUS_ZH = {"away": "外出未登记", "mobile": "流动党员", "returned": "已返回"}


def whole_months(start: date, end: date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month - (end.day < start.day)


def _rows(ctx: Context, table_name: str) -> list[dict]:
    return county_rows(ctx.service.engine, getattr(ctx.service.projection(MobileProjection), table_name), ctx.county)


def fold_as_of(events: Iterable[DomainEvent], on: date) -> dict[str, dict[str, Any]]:
    """Each member's mobile record as it stood on `on`: the events dated after it (by away, registration or
    return date) left out, the rest applied in log order — the rows the read-model holds today."""
    found: dict[str, dict[str, Any]] = {}
    for e in events:
        if isinstance(e, MemberAwayRecorded) and e.away_since <= on:
            found[e.member_id] = {"member_id": e.member_id, "status": "away", "away_since": e.away_since,
                                  "destination": e.destination, "contact": None, "receiving_organization": None,
                                  "service_point_id": None, "registered_on": None, "returned_on": None,
                                  "branch_id": e.branch_id}
        elif isinstance(e, MobileMemberRegistered) and e.registered_on <= on:
            found[e.member_id] = {"member_id": e.member_id, "status": "mobile", "away_since": e.away_since,
                                  "destination": e.destination, "contact": e.contact,
                                  "receiving_organization": e.receiving_organization,
                                  "service_point_id": e.service_point_id, "registered_on": e.registered_on,
                                  "returned_on": None, "branch_id": e.branch_id}
        elif isinstance(e, MobileMemberReturned) and e.returned_on <= on and e.member_id in found:
            found[e.member_id] = {**found[e.member_id], "status": "returned", "returned_on": e.returned_on}
    return found


async def records(ctx: Context, day: date, as_of: date | None = None) -> list[dict[str, Any]]:
    """Members' mobile records the caller may see, members in good standing only, by date away; with
    `as_of`, as they stood then (folded from the log; a standing changed after it does not count yet)."""
    await ctx.service.caught_up(ctx.county, ctx.min_seq)
    if as_of is None:
        rows = await asyncio.to_thread(_rows, ctx, "records")
    else:
        day = as_of
        events = [ev.event async for ev in ctx.service.store.read_matching(ctx.county,
                                                                          f"pb.{ctx.county}.evt.org.mobile.>")]
        rows = list(fold_as_of(events, as_of).values())
    points = {p["service_point_id"]: p for p in await asyncio.to_thread(_rows, ctx, "points")}
    orgs = await organizations_by_id(ctx)
    members = await members_by_id(ctx, [r["member_id"] for r in rows])
    out = []
    for r in rows:
        member = members.get(r["member_id"])
        if member is None or member["standing"] != "active" and not (
                as_of is not None and member["standing_since"] is not None and member["standing_since"] > as_of):
            continue
        org = orgs.get(member["branch_id"])
        if not may_read(ctx.actor, org):
            continue
        out.append({k: v for k, v in r.items() if k not in ("county", "seq")} | {
            "name": member["name"], "branch_id": member["branch_id"], "branch_name": (org or {}).get("name"),
            "township_id": (org or {}).get("township_id"),
            "service_point_name": (points.get(r["service_point_id"]) or {}).get("name"),
            "months_away": whole_months(r["away_since"], r["returned_on"] or day)})
    return sorted(out, key=lambda r: (r["away_since"], r["member_id"]))


def filtered(rows: list[dict], q: Any) -> list[dict]:
    return [r for r in rows if all(getattr(q, k) is None or r[k] == getattr(q, k)
                                   for k in ("status", "destination", "service_point_id", "branch_id", "township_id"))]


async def service_points(ctx: Context, day: date) -> list[dict[str, Any]]:
    """The county's service points, each with the mobile members (in the caller's scope) it serves."""
    served: dict[str, int] = {}
    for r in await records(ctx, day):
        if r["status"] == "mobile" and r["service_point_id"]:
            served[r["service_point_id"]] = served.get(r["service_point_id"], 0) + 1
    points = await asyncio.to_thread(_rows, ctx, "points")
    return [{k: v for k, v in p.items() if k not in ("county", "seq", "close_reason")}
            | {"members": served.get(p["service_point_id"], 0)} for p in points]


def records_xlsx(rows: list[dict]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "流动党员台账"
    ws.append(["党员编号", "姓名", "流出党支部", "乡镇", "状态", "外出日期", "外出月数", "流入地", "联系方式",
               "流入地党组织", "服务站点", "登记日期", "返回日期"])
    for r in rows:
        ws.append([r["member_id"], r["name"], r["branch_name"] or r["branch_id"], r["township_id"],
                   STATUS_ZH.get(r["status"], r["status"]), r["away_since"], r["months_away"], r["destination"],
                   r["contact"], r["receiving_organization"], r["service_point_name"], r["registered_on"],
                   r["returned_on"]])
    return _bytes(wb)


def points_xlsx(points: list[dict]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "流动党员服务站点"
    ws.append(["站点编号", "站点名称", "所在地", "依托单位", "联系人", "设立日期", "撤销日期", "流动党员人数"])
    for p in points:
        ws.append([p["service_point_id"], p["name"], p["location"], p["host"], p["contact"], p["opened_on"],
                   p["closed_on"], p["members"]])
    return _bytes(wb)


def _bytes(wb) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
