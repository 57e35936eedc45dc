"""Member spreadsheets (CSV or .xlsx) -> RegisterMember commands, with per-row errors for people.

Columns (Chinese or English headers; * marks are ignored): 姓名 name, 性别 gender (男/女),
出生日期 birth_date (optional), 党员类型 membership_status (正式党员/预备党员), 入党日期 joined_on,
所在支部 branch (the branch's id or exact name). Reading files, headers and dates is
shared/spreadsheet.py. Parsing is all-or-nothing per row: a row with any error yields errors and no
command, and nothing here touches the log (registration.py decides, the domain checks every rule
that needs "today" or state). A row's member id is derived from its content, so importing the same
file again maps to the same members.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from shared.errors import DomainError
from shared.ids import stable_id
from shared.spreadsheet import (MAX_ROWS, CellError, RowError, SheetError, choice, header_columns,  # noqa: F401
                                lookup, parse_cells, parse_date, read_table, required_text, sheet_rows)
from services.organizations.registry.commands import GENDER_ALIASES, STATUS_ALIASES, RegisterMember
from services.organizations.registry.domain import check_adult_on_joining

# header (normalized: lower case, no spaces or '*') -> field
HEADERS: dict[str, str] = {
    "姓名": "name", "name": "name",
    "性别": "gender", "gender": "gender",
    "出生日期": "birth_date", "birth_date": "birth_date",
    "党员类型": "membership_status", "党员状态": "membership_status", "人员类别": "membership_status",
    "membership_status": "membership_status",
    "入党日期": "joined_on", "入党时间": "joined_on", "joined_on": "joined_on",
    "所在支部": "branch_id", "党支部": "branch_id", "所在党支部": "branch_id",
    "branch": "branch_id", "branch_id": "branch_id",
}
REQUIRED = {"name": "姓名", "gender": "性别", "membership_status": "党员类型",
            "joined_on": "入党日期", "branch_id": "所在支部"}


@dataclass
class ImportPlan:
    rows: list[RegisterMember] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    row_numbers: list[int] = field(default_factory=list)  # spreadsheet row of each entry in rows

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.rows)


def parse_member_file(filename: str, content: bytes, branches: Mapping[str, str]) -> ImportPlan:
    """Plan the registration of every row; `branches` maps branch ids and exact names to ids."""
    try:
        return _plan(read_table(filename, content), parsers(branches))
    except CellError as e:
        return ImportPlan(errors=[RowError(1, "file", str(e))])


def _plan(table: Iterable[list[Any]], cell_parsers: dict) -> ImportPlan:
    plan, seen = ImportPlan(), {}
    try:
        for number, values in sheet_rows(table, lambda header: header_columns(header, HEADERS), REQUIRED,
                                         plan.errors):
            _plan_row(plan, number, values, cell_parsers, seen)
    except SheetError as exc:
        return ImportPlan(errors=[RowError(1, "file", str(exc))])
    return plan


def _plan_row(plan: ImportPlan, number: int, values: dict[str, Any], cell_parsers: dict,
              seen: dict[tuple, int]) -> None:
    errors: list[RowError] = []
    parsed = parse_cells(number, values, cell_parsers, errors)
    bad = {e.field for e in errors}
    if not bad & {"birth_date", "joined_on"} and parsed["birth_date"]:
        try:
            check_adult_on_joining(parsed["birth_date"], parsed["joined_on"])
        except DomainError as e:
            errors.append(RowError(number, "birth_date", e.detail))
    if not bad & {"name", "birth_date", "branch_id"}:
        key = (parsed["name"], parsed["birth_date"], parsed["branch_id"])
        if key in seen:
            errors.append(RowError(number, "name", f"与第 {seen[key]} 行重复 / duplicate of row {seen[key]}"))
        else:
            seen[key] = number
    if errors:
        plan.errors.extend(errors)
        return
    birth = parsed["birth_date"].isoformat() if parsed["birth_date"] else ""
    member_id = stable_id("member", parsed["branch_id"], parsed["name"], birth)  # re-import -> same member
    try:
        plan.rows.append(RegisterMember(member_id=member_id, **parsed))
        plan.row_numbers.append(number)
    except ValidationError as e:  # pragma: no cover - the parsers above already enforce the shape
        plan.errors.extend(RowError(number, str(x["loc"][0]), f"数据无效 / invalid: {x['msg']}") for x in e.errors())


def _joined_on(value: Any) -> Any:
    day = parse_date(value)
    if day is None:
        raise CellError("入党日期不能为空 / joining date is required")
    return day


def parsers(branches: Mapping[str, str]) -> dict:
    """The parser of each column's cells (the branch column looks names up in this county)."""
    return {
        "name": required_text("姓名", "name", 40),
        "gender": choice(GENDER_ALIASES, "性别", "gender", "男/女"),
        "birth_date": parse_date,
        "membership_status": choice(STATUS_ALIASES, "党员类型", "membership status", "正式党员/预备党员"),
        "joined_on": _joined_on,
        "branch_id": lookup(branches, "党支部", "branch"),
    }
