"""Enterprise spreadsheets (CSV or .xlsx) -> RegisterEnterprise commands, with per-row errors.

Counties keep their 两新组织 台账 in Excel with Chinese headers; reading files, headers and dates is
shared/spreadsheet.py. A row with any error yields errors and no command. Whether a code is
already held by a unit in the log is the caller's check (the domain refuses it with uscc_taken);
duplicates within the file are caught here. enterprise_id = stable_id("enterprise", uscc), so
importing the same file twice maps to the same units.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Callable

from pydantic import ValidationError

from shared.errors import DomainError
from shared.ids import stable_id
from shared.spreadsheet import (CellError, RowError, SheetError, choice, count, header_columns, lookup, parse_cells,
                                parse_date, read_table, required_text, sheet_rows, text)
from services.organizations.enterprises.commands import (BOOL_ALIASES, OPERATING_STATUS_ALIASES, UNIT_TYPE_ALIASES,
                                                         RegisterEnterprise)
from services.organizations.enterprises.domain import check_members_within_employees
from services.organizations.enterprises.uscc import validate_uscc

HEADERS: dict[str, str] = {
    "统一社会信用代码": "uscc", "社会信用代码": "uscc", "信用代码": "uscc", "uscc": "uscc",
    "单位名称": "name", "企业名称": "name", "组织名称": "name", "name": "name",
    "类型": "unit_type", "单位类型": "unit_type", "unit_type": "unit_type",
    "乡镇": "township_id", "所属乡镇": "township_id", "乡镇街道": "township_id", "所属乡镇街道": "township_id",
    "township": "township_id", "township_id": "township_id",
    "行业": "industry", "所属行业": "industry", "行业门类": "industry", "industry": "industry",
    "从业人员": "employees", "从业人员数": "employees", "职工人数": "employees", "员工人数": "employees",
    "employees": "employees",
    "正式党员": "full_members", "正式党员数": "full_members", "full_members": "full_members",
    "预备党员": "probationary_members", "预备党员数": "probationary_members",
    "probationary_members": "probationary_members",
    "经营状态": "operating_status", "operating_status": "operating_status",
    "固定场所": "fixed_premises", "有无固定场所": "fixed_premises", "fixed_premises": "fixed_premises",
    "规模以上": "above_scale", "是否规模以上": "above_scale", "above_scale": "above_scale",
    "登记日期": "registered_on", "成立日期": "registered_on", "registered_on": "registered_on",
}
REQUIRED = {"uscc": "统一社会信用代码", "name": "单位名称", "unit_type": "类型", "township_id": "乡镇",
            "industry": "行业", "employees": "从业人员", "full_members": "正式党员"}
_HEADER_NOISE = re.compile(r"[\s*＊]|[（(][^）)]*[）)]")  # spaces, required marks, "(人)"


@dataclass
class EnterpriseImportPlan:
    rows: list[RegisterEnterprise] = field(default_factory=list)
    row_numbers: list[int] = field(default_factory=list)  # spreadsheet row of each entry in rows
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.rows)


def parse_enterprise_file(filename: str, content: bytes, townships: Mapping[str, str], *,
                          default_registered_on: date | None = None) -> EnterpriseImportPlan:
    """Plan the registration of every row. `townships` maps township ids and names to ids;
    `default_registered_on` stands in for a missing or blank 登记日期 (required otherwise)."""
    try:
        return _plan(read_table(filename, content), parsers(townships), default_registered_on)
    except CellError as e:
        return EnterpriseImportPlan(errors=[RowError(1, "file", str(e))])


def _plan(table: Iterable[list[Any]], cell_parsers: dict, default_on: date | None) -> EnterpriseImportPlan:
    plan, seen = EnterpriseImportPlan(), {}
    required = dict(REQUIRED, **({} if default_on else {"registered_on": "登记日期"}))
    try:
        for number, values in sheet_rows(table, _columns, required, plan.errors):
            _plan_row(plan, number, values, cell_parsers, default_on, seen)
    except SheetError as exc:
        return EnterpriseImportPlan(errors=[RowError(1, "file", str(exc))])
    return plan


def _columns(header: list[Any]) -> dict[int, str]:
    return header_columns(header, HEADERS, _HEADER_NOISE)


def _plan_row(plan: EnterpriseImportPlan, number: int, values: dict[str, Any], cell_parsers: dict,
              default_on: date | None, seen: dict[str, int]) -> None:
    errors: list[RowError] = []
    parsed = parse_cells(number, values, cell_parsers, errors)
    if "registered_on" in parsed and parsed["registered_on"] is None:
        if default_on is None:
            errors.append(RowError(number, "registered_on", "登记日期不能为空 / registration date is required"))
        parsed["registered_on"] = default_on
    if {"employees", "full_members", "probationary_members"} <= parsed.keys():
        try:
            check_members_within_employees(parsed["employees"], parsed["full_members"], parsed["probationary_members"])
        except DomainError as e:
            errors.append(RowError(number, "full_members", e.detail))
    if "uscc" in parsed:
        first = seen.setdefault(parsed["uscc"], number)
        if first != number:
            errors.append(RowError(number, "uscc", f"统一社会信用代码与第 {first} 行重复 / "
                                                   f"same code as row {first}"))
    if errors:
        plan.errors.extend(errors)
        return
    try:
        plan.rows.append(RegisterEnterprise(enterprise_id=stable_id("enterprise", parsed["uscc"]), **parsed))
        plan.row_numbers.append(number)
    except ValidationError as e:  # pragma: no cover - the parsers above already enforce the shape
        plan.errors.extend(RowError(number, str(x["loc"][0]), f"数据无效 / invalid: {x['msg']}") for x in e.errors())


# --- cell parsers: value -> clean value, or CellError with a bilingual message ---

def _uscc(value: Any) -> str:
    cell = text(value)
    if not cell:
        raise CellError("统一社会信用代码不能为空 / unified social credit code is required")
    try:
        return validate_uscc(cell)
    except DomainError as e:
        raise CellError(e.detail) from None


_YES_NO = {**BOOL_ALIASES, "y": True, "n": False, "yes": True, "no": False, "true": True, "false": False,
           "1": True, "0": False}


def parsers(townships: Mapping[str, str]) -> dict[str, Callable[[Any], Any]]:
    """The parser of each column's cells (the township column looks names up in this county)."""
    return {
        "uscc": _uscc,
        "name": required_text("单位名称", "name", 100),
        "unit_type": choice(UNIT_TYPE_ALIASES, "类型", "unit type", "非公企业/社会组织"),
        "township_id": lookup(townships, "乡镇", "township"),
        "industry": required_text("行业", "industry", 40),
        "employees": count("从业人员", "employees"),
        "full_members": count("正式党员", "full members"),
        "probationary_members": count("预备党员", "probationary members", default=0),
        "operating_status": choice(OPERATING_STATUS_ALIASES, "经营状态", "operating status", "正常经营/停产/注销",
                                   default="operating"),
        "fixed_premises": choice(_YES_NO, "固定场所", "fixed premises", "是/否", default=True),
        "above_scale": choice(_YES_NO, "规模以上", "above scale", "是/否", default=False),
        "registered_on": parse_date,
    }
