"""Enterprise spreadsheets (CSV or .xlsx) -> RegisterEnterprise commands, with per-row errors.

Counties keep their 两新组织 台账 in Excel with Chinese headers; reading files and dates is shared
with the member import. A row with any error yields errors and no command. Whether a code is
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

from services.organizations.enterprise_commands import (BOOL_ALIASES, OPERATING_STATUS_ALIASES, UNIT_TYPE_ALIASES,
                                                        RegisterEnterprise)
from services.organizations.enterprises import check_members_within_employees
from services.organizations.importing import (RowError, SheetError, _CellError, _is_xlsx, _read_csv, _read_xlsx,
                                              _text, header_columns, lookup_cell, parse_date, sheet_rows)
from services.organizations.uscc import validate_uscc

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
_COUNT = re.compile(r"^(\d{1,7})\s*(?:人|名)?$")


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
        table = _read_xlsx(content) if _is_xlsx(filename, content) else _read_csv(filename, content)
        return _plan(table, townships, default_registered_on)
    except _CellError as e:
        return EnterpriseImportPlan(errors=[RowError(1, "file", str(e))])


def _plan(table: Iterable[list[Any]], townships: Mapping[str, str], default_on: date | None) -> EnterpriseImportPlan:
    plan, seen = EnterpriseImportPlan(), {}
    required = dict(REQUIRED, **({} if default_on else {"registered_on": "登记日期"}))
    try:
        for number, values in sheet_rows(table, _columns, required, plan.errors):
            _plan_row(plan, number, values, townships, default_on, seen)
    except SheetError as exc:
        return EnterpriseImportPlan(errors=[RowError(1, "file", str(exc))])
    return plan


def _columns(header: list[Any]) -> dict[int, str]:
    return header_columns(header, HEADERS, _HEADER_NOISE)


def _plan_row(plan: EnterpriseImportPlan, number: int, values: dict[str, Any], townships: Mapping[str, str],
              default_on: date | None, seen: dict[str, int]) -> None:
    parsed: dict[str, Any] = {}
    errors: list[RowError] = []
    for f, parse in PARSERS.items():
        try:
            parsed[f] = parse(values.get(f), townships)
        except _CellError as e:
            errors.append(RowError(number, f, str(e)))
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


# --- cell parsers: value -> clean value, or _CellError with a bilingual message ---

def _uscc(value: Any, _: Mapping[str, str]) -> str:
    text = _text(value)
    if not text:
        raise _CellError("统一社会信用代码不能为空 / unified social credit code is required")
    try:
        return validate_uscc(text)
    except DomainError as e:
        raise _CellError(e.detail) from None


def _required_text(zh: str, en: str, limit: int) -> Callable[[Any, Mapping[str, str]], str]:
    def parse(value: Any, _: Mapping[str, str]) -> str:
        text = _text(value)
        if not text:
            raise _CellError(f"{zh}不能为空 / {en} is required")
        if len(text) > limit:
            raise _CellError(f"{zh}超过 {limit} 个字 / {en} longer than {limit} characters")
        return text
    return parse


def _choice(aliases: dict[str, Any], zh: str, en: str, allowed: str, default: Any = None):
    def parse(value: Any, _: Mapping[str, str]) -> Any:
        text = _text(value)
        if not text and default is not None:
            return default
        if not text:
            raise _CellError(f"{zh}不能为空 / {en} is required")
        if text.lower() not in aliases:
            raise _CellError(f"{zh}“{text}”无效，应为{allowed} / invalid {en} '{text}'")
        return aliases[text.lower()]
    return parse


def _count(zh: str, en: str, default: int | None = None) -> Callable[[Any, Mapping[str, str]], int]:
    def parse(value: Any, _: Mapping[str, str]) -> int:
        text = _text(value)
        if not text and default is not None:
            return default
        m = _COUNT.match(text)
        if not m:
            raise _CellError(f"{zh}“{text}”应为非负整数 / {en} must be a whole number ≥ 0, got '{text}'"
                             if text else f"{zh}不能为空 / {en} is required")
        return int(m[1])
    return parse


def _township(value: Any, townships: Mapping[str, str]) -> str:
    return lookup_cell(value, townships, "乡镇", "township")


def _registered_on(value: Any, _: Mapping[str, str]) -> date | None:
    return parse_date(value)


_YES_NO = {**BOOL_ALIASES, "y": True, "n": False, "yes": True, "no": False, "true": True, "false": False,
           "1": True, "0": False}

PARSERS: dict[str, Callable[[Any, Mapping[str, str]], Any]] = {
    "uscc": _uscc,
    "name": _required_text("单位名称", "name", 100),
    "unit_type": _choice(UNIT_TYPE_ALIASES, "类型", "unit type", "非公企业/社会组织"),
    "township_id": _township,
    "industry": _required_text("行业", "industry", 40),
    "employees": _count("从业人员", "employees"),
    "full_members": _count("正式党员", "full members"),
    "probationary_members": _count("预备党员", "probationary members", default=0),
    "operating_status": _choice(OPERATING_STATUS_ALIASES, "经营状态", "operating status", "正常经营/停产/注销",
                                default="operating"),
    "fixed_premises": _choice(_YES_NO, "固定场所", "fixed premises", "是/否", default=True),
    "above_scale": _choice(_YES_NO, "规模以上", "above scale", "是/否", default=False),
    "registered_on": _registered_on,
}
