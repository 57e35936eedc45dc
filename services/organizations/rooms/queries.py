"""Queries of 党代表工作室: the rooms with their delegates, head and liaison staff; the county's figures
for a year (rooms, delegates, liaison staff, receptions, visits, people, issues) by township; the
activities recorded; the registry as Excel."""
from __future__ import annotations

import asyncio
from datetime import date

import orjson
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from shared.messaging import ok
from shared.service import Context
from services.organizations.clock import today
from services.organizations.contracts import TOKEN_PATTERN, workbook_reply
from services.organizations.registry.queries import township_lookup
from services.organizations.rooms.projections.rooms import RoomsProjection
from services.organizations.rooms.room_sheet import registry_xlsx


class ListRooms(BaseModel):
    model_config = ConfigDict(extra="forbid")
    township_id: str | None = Field(None, pattern=TOKEN_PATTERN, description="只列此乡镇 / only this township")


class RoomYear(BaseModel):
    model_config = ConfigDict(extra="forbid")
    year: int = Field(ge=2000, le=2100, description="年度 / year")
    room_id: str | None = Field(None, pattern=TOKEN_PATTERN, description="只列此工作室 / only this room")


class RoomPerson(BaseModel):
    person_id: str = Field(description="编号 / id")
    name: str = Field(description="姓名 / name")
    congress_level: str | None = Field(description="代表层级（党代表） / congress level of a delegate")
    member_id: str | None = Field(description="党员编号 / member id")
    since: date = Field(description="进室或到任日期 / since")


class RoomEntry(BaseModel):
    room_id: str = Field(description="编号 / id")
    name: str = Field(description="名称 / name")
    township_id: str | None = Field(description="乡镇 / township")
    address: str | None = Field(description="地址 / address")
    established_on: date = Field(description="设立日期 / established on")
    head: str | None = Field(description="负责人（党代表姓名） / the head's name")
    delegates: list[RoomPerson] = Field(description="进室党代表 / delegates stationed")
    liaison_staff: list[RoomPerson] = Field(description="联络员 / liaison staff")


class RoomList(BaseModel):
    rooms: int = Field(description="工作室数 / rooms")
    delegates: int = Field(description="进室党代表人数 / delegates stationed (a delegate in two rooms counts twice)")
    liaison_staff: int = Field(description="联络员人数 / liaison staff")
    items: list[RoomEntry] = Field(description="按乡镇、名称 / by township and name")


class RoomFigureRow(BaseModel):
    township_id: str | None = Field(description="乡镇（空 = 全县合计） / township; null = the county")
    rooms: int = Field(description="工作室 / rooms")
    delegates: int = Field(description="进室党代表 / delegates")
    liaison_staff: int = Field(description="联络员 / liaison staff")
    receptions: int = Field(description="接待次数 / receptions")
    visits: int = Field(description="走访次数 / visits")
    people: int = Field(description="群众人次 / people")
    issues_raised: int = Field(description="收集意见建议 / issues raised")
    issues_resolved: int = Field(description="办结 / resolved")


class RoomFigures(BaseModel):
    year: int = Field(description="年度 / year")
    county: RoomFigureRow = Field(description="全县 / the county")
    townships: list[RoomFigureRow] = Field(description="各乡镇 / by township")


class ActivityEntry(BaseModel):
    activity_id: str = Field(description="编号 / id")
    room_id: str = Field(description="工作室 / room")
    kind: str = Field(description="reception 接待 / visit 走访")
    held_on: date = Field(description="日期 / date")
    delegate_ids: list[str] = Field(description="参加党代表 / delegates")
    people: int = Field(description="人次 / people")
    topics: str = Field(description="内容 / topics")
    issues_raised: int = Field(description="收集 / raised")
    issues_resolved: int = Field(description="办结 / resolved")


class ActivityList(BaseModel):
    year: int = Field(description="年度 / year")
    items: list[ActivityEntry] = Field(description="按日期 / by date")


def _p(ctx: Context) -> RoomsProjection:
    return ctx.service.projection(RoomsProjection)


def room_entries(ctx: Context, township_id: str | None) -> list[dict]:
    p = _p(ctx)
    stmt = select(p.rooms).where(p.rooms.c.county == ctx.county)
    if township_id:
        stmt = stmt.where(p.rooms.c.township_id == township_id)
    with ctx.service.engine.connect() as conn:
        rooms = [dict(r._mapping) for r in conn.execute(stmt)]
        people: dict[str, list[dict]] = {}
        for row in conn.execute(select(p.people).where(p.people.c.county == ctx.county)):
            people.setdefault(row.room_id, []).append(dict(row._mapping))
    rooms = [r for r in rooms if ctx.actor.sees(r["township_id"])]  # README: Read rules (no branch holds a room)
    for room in rooms:
        inside = sorted(people.get(room["room_id"], []), key=lambda x: x["name"])
        room["delegates"] = [x for x in inside if x["role"] == "delegate"]
        room["liaison_staff"] = [x for x in inside if x["role"] == "staff"]
        room["head"] = next((x["name"] for x in room["delegates"] if x["person_id"] == room["head_id"]), None)
    return sorted(rooms, key=lambda x: (x["township_id"] or "", x["name"]))


def activity_entries(ctx: Context, year: int, room_id: str | None = None, rooms: set[str] | None = None) -> list[dict]:
    """A year's activities (of one room, and of the `rooms` the reader sees)."""
    a = _p(ctx).activities.c
    stmt = select(_p(ctx).activities).where(a.county == ctx.county, a.held_on >= date(year, 1, 1),
                                            a.held_on <= date(year, 12, 31))
    if room_id:
        stmt = stmt.where(a.room_id == room_id)
    with ctx.service.engine.connect() as conn:
        items = [{**r._mapping, "delegate_ids": orjson.loads(r.delegate_ids)} for r in conn.execute(stmt)
                 if rooms is None or r.room_id in rooms]
    return sorted(items, key=lambda x: (x["held_on"], x["activity_id"]))


def figures(rooms: list[dict], activities: list[dict]) -> tuple[dict, list[dict]]:
    """(the county row, one row per township) of rooms, people in them and the year's activities; a
    county-level room (no township) counts in the county row only."""
    township_of = {r["room_id"]: r["township_id"] for r in rooms}
    county, townships = _figure_row(None), {}

    def rows_of(township: str | None) -> tuple[dict, ...]:
        if township is None:
            return (county,)
        return county, townships.setdefault(township, _figure_row(township))
    for room in rooms:
        for r in rows_of(room["township_id"]):
            r["rooms"] += 1
            r["delegates"] += len(room["delegates"])
            r["liaison_staff"] += len(room["liaison_staff"])
    for a in activities:
        for r in rows_of(township_of.get(a["room_id"])):
            r["receptions" if a["kind"] == "reception" else "visits"] += 1
            for k in ("people", "issues_raised", "issues_resolved"):
                r[k] += a[k]
    return county, [townships[t] for t in sorted(townships)]


def _figure_row(township: str | None) -> dict:
    return {"township_id": township, "rooms": 0, "delegates": 0, "liaison_staff": 0, "receptions": 0, "visits": 0,
            "people": 0, "issues_raised": 0, "issues_resolved": 0}


async def on_list_rooms(ctx: Context, q: ListRooms) -> dict:
    """党代表工作室 with their delegates, head and liaison staff."""
    await ctx.service.caught_up(ctx.county, ctx.min_seq)
    items = await asyncio.to_thread(room_entries, ctx, q.township_id)
    return ok({"rooms": len(items), "delegates": sum(len(i["delegates"]) for i in items),
               "liaison_staff": sum(len(i["liaison_staff"]) for i in items), "items": items})


async def on_room_figures(ctx: Context, q: RoomYear) -> dict:
    """The county's rooms, delegates, liaison staff and the year's receptions and visits, by township."""
    await ctx.service.caught_up(ctx.county, ctx.min_seq)
    rooms = await asyncio.to_thread(room_entries, ctx, None)
    activities = await asyncio.to_thread(activity_entries, ctx, q.year, None, {r["room_id"] for r in rooms})
    county, townships = figures(rooms, activities)
    return ok({"year": q.year, "county": county, "townships": townships})


async def on_list_room_activities(ctx: Context, q: RoomYear) -> dict:
    """接待与走访 of a year, optionally of one room."""
    await ctx.service.caught_up(ctx.county, ctx.min_seq)
    rooms = {r["room_id"] for r in await asyncio.to_thread(room_entries, ctx, None)}
    return ok({"year": q.year, "items": await asyncio.to_thread(activity_entries, ctx, q.year, q.room_id, rooms)})


async def on_rooms_export(ctx: Context, q: RoomYear) -> dict:
    """党代表工作室台账 as Excel: one row per person (imports again), and the year's activities."""
    await ctx.service.caught_up(ctx.county, ctx.min_seq)
    rooms = await asyncio.to_thread(room_entries, ctx, None)
    activities = await asyncio.to_thread(activity_entries, ctx, q.year, q.room_id, {r["room_id"] for r in rooms})
    names = {tid: name for name, tid in (await township_lookup(ctx)).items() if name != tid}
    content = await asyncio.to_thread(registry_xlsx, rooms, activities, names)
    return workbook_reply(f"党代表工作室台账_{ctx.county}_{q.year}_{today().isoformat()}.xlsx", content)
