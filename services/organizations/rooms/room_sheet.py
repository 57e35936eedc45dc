"""党代表工作室 as a spreadsheet: one row per person — 工作室, 乡镇, 设立日期, 姓名, 身份 (党代表/联络员),
代表层级, 进室日期, 负责人 — imported all or none (a room is established from its first row), and the
registry exported in the same columns (plus the year's receptions and visits on a second sheet).

Room ids come from the county and the room's name, people's from the room and their name: importing the
same file again changes nothing."""
from __future__ import annotations

import copy
import io
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from pydantic import ValidationError

from shared.aggregate import Aggregate, Decision
from shared.errors import DomainError, FieldError, invalid
from shared.ids import stable_id
from shared.service import Context
from shared.spreadsheet import (CellError, RowError, SheetError, choice, header_columns, lookup, parse_cells,
                                parse_date, read_table, required_text, sheet_rows, text)
from services.organizations import scope
from services.organizations.clock import today
from services.organizations.registry.queries import township_lookup
from services.organizations.registry.registration import import_refused, row_errors
from services.organizations.rooms.commands import (LEVEL_ALIASES, LEVEL_NAMES, AppointRoomHead, AssignLiaisonStaff,
                                                   EstablishRoom, ImportRooms, RoomImport, StationDelegate)
from services.organizations.rooms.domain import Room, delegate_id_of, staff_id_of
from services.organizations.upload import file_content

COLUMNS = [("room", "工作室"), ("township_id", "乡镇"), ("established_on", "设立日期"), ("name", "姓名"),
           ("role", "身份"), ("congress_level", "代表层级"), ("since", "进室日期"), ("head", "负责人")]
HEADERS = {**{zh: f for f, zh in COLUMNS}, **{f: f for f, _ in COLUMNS}, "党代表工作室": "room",
           "工作室名称": "room", "所属乡镇": "township_id", "类别": "role", "到任日期": "since"}
REQUIRED = {"room": "工作室", "established_on": "设立日期", "name": "姓名", "role": "身份", "since": "进室日期"}
ROLE_ALIASES = {"党代表": "delegate", "代表": "delegate", "delegate": "delegate",
                "联络员": "staff", "工作人员": "staff", "staff": "staff"}
_YES_NO = {"是": True, "否": False, "y": True, "n": False, "yes": True, "no": False, "1": True, "0": False}
_NOISE = re.compile(r"[\s*＊]|[（(][^）)]*[）)]")


def room_id_of(county: str, name: str) -> str:
    return stable_id("room", county, name)


@dataclass
class RoomRow:
    number: int
    room: str
    township_id: str | None
    established_on: date
    name: str
    role: str
    congress_level: str | None
    since: date
    head: bool


def _level(value) -> str | None:
    cell = text(value)
    if cell and cell.lower() not in LEVEL_ALIASES:
        raise CellError(f"代表层级“{cell}”无效，应为乡镇/县/市/省/全国 / invalid congress level '{cell}'")
    return LEVEL_ALIASES[cell.lower()] if cell else None


def parse_room_file(filename: str, content: bytes, townships: Mapping[str, str]) -> tuple[list[RoomRow], list[RowError]]:
    find_township = lookup(townships, "乡镇", "township")
    parsers = {"room": required_text("工作室", "room", 80),
               "township_id": lambda v: find_township(v) if text(v) else None,
               "established_on": parse_date, "name": required_text("姓名", "name", 40),
               "role": choice(ROLE_ALIASES, "身份", "role", "党代表/联络员"),
               "congress_level": _level,
               "since": parse_date, "head": choice(_YES_NO, "负责人", "head", "是/否", default=False)}
    rows, errors, seen = [], [], {}
    try:
        for number, values in sheet_rows(read_table(filename, content), lambda h: header_columns(h, HEADERS, _NOISE),
                                         REQUIRED, errors):
            problems: list[RowError] = []
            parsed = parse_cells(number, values, parsers, problems)
            for f, zh in (("established_on", "设立日期"), ("since", "进室日期")):
                if f in parsed and parsed[f] is None:
                    problems.append(RowError(number, f, f"{zh}不能为空 / {f} is required"))
            if parsed.get("role") == "delegate" and not parsed.get("congress_level"):
                problems.append(RowError(number, "congress_level", "党代表须填写代表层级（乡镇/县/市/省/全国） / "
                                                                   "a delegate's congress level is required"))
            key = (parsed.get("room"), parsed.get("role"), parsed.get("name"))
            if not problems and seen.setdefault(key, number) != number:
                problems.append(RowError(number, "name", f"与第 {seen[key]} 行重复 / same person as row {seen[key]}"))
            if problems:
                errors += problems
                continue
            rows.append(RoomRow(number, **parsed))
    except (CellError, SheetError) as e:
        return [], [RowError(1, "file", str(e))]
    return rows, errors


def record_rooms(county: str, rows: Sequence[RoomRow], rooms: Mapping[str, Room], townships: set[str], *,
                 today: date, errors: Sequence[FieldError] = (),
                 check_scope: Callable[[str | None], None] = lambda township_id: None) -> Decision:
    """`rooms` by id (every room the rows name), `townships` the county's ids."""
    problems, decision = list(errors), Decision()
    counts = {"rooms": 0, "delegates": 0, "liaison_staff": 0, "unchanged_rows": 0}
    states: dict[str, Room] = {}
    events: dict[str, list] = {}
    for row in rows:
        room_id = room_id_of(county, row.room)
        try:
            if room_id not in states:
                states[room_id], events[room_id] = copy.deepcopy(rooms[room_id]), []  # decided on a copy
            state = states[room_id]
            check_scope(state.township_id if state.exists else row.township_id)
            events[room_id] += _row_events(state, room_id, row, townships, today, counts)
        except (DomainError, ValidationError) as exc:
            problems += row_errors(row.number, exc) if isinstance(exc, DomainError) else [
                FieldError(f"row {row.number}", str(exc))]
    if problems:
        raise import_refused(problems)
    for room_id, new in events.items():
        decision.add(rooms[room_id], new)
    decision.answer = RoomImport(**counts)
    return decision


def _row_events(state: Room, room_id: str, row: RoomRow, townships: set[str], day: date, counts: dict) -> list:
    """The events of one row, applied to `state` (the decision's copy) as they are decided."""
    new: list = []

    def take(events: list) -> None:
        for e in events:
            state.apply(e)
        new.extend(events)
    if not state.exists:
        take(state.establish(EstablishRoom(room_id=room_id, name=row.room, township_id=row.township_id,
                                           established_on=row.established_on),
                             township_exists=row.township_id in townships, today=day))
        counts["rooms"] += 1
    before = len(new)
    if row.role == "delegate":
        person = delegate_id_of(room_id, row.name)
        if person not in state.delegates:
            take(state.station(StationDelegate(room_id=room_id, name=row.name, congress_level=row.congress_level,
                                               stationed_on=row.since), today=day))
            counts["delegates"] += 1
        if row.head:
            take(state.appoint_head(AppointRoomHead(room_id=room_id, delegate_id=person, appointed_on=row.since),
                                    today=day))
    elif staff_id_of(room_id, row.name) not in state.staff:
        take(state.assign_staff(AssignLiaisonStaff(room_id=room_id, name=row.name, assigned_on=row.since), today=day))
        counts["liaison_staff"] += 1
    counts["unchanged_rows"] += len(new) == before
    return new


async def import_rooms(ctx: Context, cmd: ImportRooms) -> tuple[RoomImport, int]:
    ctx.require_write()
    scope.check_not_branch_secretary(ctx.actor, "支部书记不能管理党代表工作室 / branch secretaries do not manage rooms")
    content = file_content(cmd)
    townships = await township_lookup(ctx)
    rows, row_problems = parse_room_file(cmd.filename or "rooms.csv", content, townships)
    errors = [FieldError(f"row {e.row}: {e.field}", e.message) for e in row_problems]
    if not rows and not errors:
        raise invalid("empty_file", "file", "文件中没有工作室数据 / the file has no rows")
    for row in rows:  # a township outside the actor's refuses the file as a whole (403)
        scope.check_in_township(ctx.actor, row.township_id)
    refs = [(Room, r) for r in sorted({room_id_of(ctx.county, row.room) for row in rows})]
    day, known = today(), set(townships.values())

    def decide(states: list[Aggregate]):
        return record_rooms(ctx.county, rows, {s.id: s for s in states}, known, today=day, errors=errors,
                            check_scope=lambda township_id: scope.check_in_township(ctx.actor, township_id))
    out = await ctx.service.repo.execute_many(ctx.county, ctx.meta, refs, decide, chunked=True)
    return out.result, out.seq


def registry_xlsx(rooms: Sequence[dict], activities: Sequence[dict], township_names: Mapping[str, str]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "工作室人员"
    ws.append([zh for _, zh in COLUMNS] + ["地址"])
    names: dict[str, str] = {}
    for room in rooms:
        township = township_names.get(room["township_id"] or "", room["township_id"] or "")
        for role, people in (("党代表", room["delegates"]), ("联络员", room["liaison_staff"])):
            for p in people:
                names[p["person_id"]] = p["name"]
                ws.append([room["name"], township, room["established_on"], p["name"], role,
                           LEVEL_NAMES.get(p["congress_level"] or "", ""), p["since"],
                           "是" if room["head_id"] == p["person_id"] else "否", room["address"] or ""])
    rooms_by_id = {r["room_id"]: r["name"] for r in rooms}
    sheet = wb.create_sheet("接待走访")
    sheet.append(["工作室", "类型", "日期", "参加党代表", "群众人次", "主要内容", "收集意见建议", "已办结"])
    for a in activities:
        sheet.append([rooms_by_id.get(a["room_id"], a["room_id"]), "接待" if a["kind"] == "reception" else "走访",
                      a["held_on"], "、".join(names.get(d, d) for d in a["delegate_ids"]), a["people"], a["topics"],
                      a["issues_raised"], a["issues_resolved"]])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()

