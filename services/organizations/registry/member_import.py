"""Member spreadsheets (CSV or .xlsx) -> RegisterMember commands, with per-row errors for people.

Member master data comes from the national system or from 台账 kept in Excel, so headers may be
Chinese or English and dates come in every local style. Parsing is all-or-nothing per row: a row
with any error yields errors and no command, and nothing here touches the log (the service
registers the rows, the domain still checks every rule that needs "today" or state).
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from pydantic import ValidationError

from shared.errors import DomainError
from shared.ids import stable_id

from services.organizations.commands import GENDER_ALIASES, STATUS_ALIASES, RegisterMember
from services.organizations.domain import check_adult_on_joining

MAX_ROWS = 20_000

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
DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
                  r"(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$")


@dataclass(frozen=True)
class RowError:
    row: int  # spreadsheet row number, header row = 1 when it is the first row
    field: str
    message: str


@dataclass
class ImportPlan:
    rows: list[RegisterMember] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    row_numbers: list[int] = field(default_factory=list)  # spreadsheet row of each entry in rows

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.rows)


class _CellError(ValueError):
    pass


def parse_member_file(filename: str, content: bytes, branches: Mapping[str, str]) -> ImportPlan:
    """Plan the registration of every row; `branches` maps branch ids and exact names to ids."""
    try:
        table = _read_xlsx(content) if _is_xlsx(filename, content) else _read_csv(filename, content)
        return _plan(table, branches)
    except _CellError as e:
        return ImportPlan(errors=[RowError(1, "file", str(e))])


def _is_xlsx(filename: str, content: bytes) -> bool:
    return filename.lower().endswith((".xlsx", ".xlsm")) or content.startswith(b"PK\x03\x04")


def _read_csv(filename: str, content: bytes) -> Iterator[list[Any]]:
    if filename.lower().endswith(".xls") or content.startswith(b"\xd0\xcf\x11\xe0"):
        raise _CellError("不支持旧版 .xls 文件，请另存为 .xlsx 或 CSV / old .xls files are not supported; "
                         "save as .xlsx or CSV")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = content.decode("gb18030")
        except UnicodeDecodeError:
            raise _CellError("无法识别文件编码（应为 UTF-8 或 GB18030） / "
                             "cannot decode the file (expected UTF-8 or GB18030)") from None
    first = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first and "," not in first else ","
    return iter(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def _read_xlsx(content: bytes) -> Iterator[list[Any]]:
    from openpyxl import load_workbook  # only needed for Excel uploads

    try:
        wb = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many types for a damaged or foreign file
        raise _CellError("无法读取 Excel 文件，请确认是 .xlsx 格式 / cannot read the Excel file; "
                         "is it .xlsx?") from None
    ws = wb.worksheets[0]
    try:
        for row in ws.iter_rows(values_only=True):
            yield list(row)
    finally:
        wb.close()


class SheetError(ValueError):
    """A problem of the whole file (e.g. too many rows): the plan is this one error."""


def sheet_rows(table: Iterable[list[Any]], columns_of: Callable[[list[Any]], dict[int, str]],
               required: Mapping[str, str], errors: list[RowError]) -> Iterator[tuple[int, dict[str, Any]]]:
    """(row number, values by field) of every non-empty data row. The first non-empty row is the
    header; missing required columns and an empty file go into `errors`. Shared by every import."""
    columns, count = None, 0
    for number, raw in enumerate(table, start=1):
        if all(_text(v) == "" for v in raw):
            continue
        if columns is None:
            columns = columns_of(raw)
            missing = [f for f in required if f not in columns.values()]
            errors.extend(RowError(number, f, f"缺少必填列“{required[f]}” / missing required column {f}")
                          for f in missing)
            if missing:
                return
            continue
        count += 1
        if count > MAX_ROWS:
            raise SheetError(f"行数超过 {MAX_ROWS} 行，请分批导入 / more than {MAX_ROWS} rows; split the file")
        yield number, {f: raw[i] if i < len(raw) else None for i, f in columns.items()}
    if columns is None:
        errors.append(RowError(1, "file", "文件为空 / the file is empty"))


def _plan(table: Iterable[list[Any]], branches: Mapping[str, str]) -> ImportPlan:
    plan, seen = ImportPlan(), {}
    try:
        for number, values in sheet_rows(table, _columns, REQUIRED, plan.errors):
            _plan_row(plan, number, values, branches, seen)
    except SheetError as exc:
        return ImportPlan(errors=[RowError(1, "file", str(exc))])
    return plan


_MARKS = re.compile(r"[\s*＊]")  # spaces and required-field marks around a header


def header_columns(header: list[Any], headers: Mapping[str, str], noise: re.Pattern = _MARKS) -> dict[int, str]:
    """Column index -> field by header text (Chinese or English), first match wins; unknown columns
    are ignored. Shared by every spreadsheet import."""
    columns: dict[int, str] = {}
    for i, cell in enumerate(header):
        f = headers.get(noise.sub("", _text(cell)).lower())
        if f and f not in columns.values():
            columns[i] = f
    return columns


def _columns(header: list[Any]) -> dict[int, str]:
    return header_columns(header, HEADERS)


def _plan_row(plan: ImportPlan, number: int, values: dict[str, Any], branches: Mapping[str, str],
              seen: dict[tuple, int]) -> None:
    parsed: dict[str, Any] = {}
    errors: list[RowError] = []
    for f, parse in PARSERS.items():
        try:
            parsed[f] = parse(values.get(f), branches)
        except _CellError as e:
            errors.append(RowError(number, f, str(e)))
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


# --- cell parsers: value -> clean value, or _CellError with a bilingual message ---

def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _name(value: Any, _: Mapping[str, str]) -> str:
    text = _text(value)
    if not text:
        raise _CellError("姓名不能为空 / name is required")
    if len(text) > 40:
        raise _CellError("姓名超过 40 个字 / name longer than 40 characters")
    return text


def _alias(aliases: dict[str, str], zh: str, en: str, allowed: str):
    def parse(value: Any, _: Mapping[str, str]) -> str:
        text = _text(value)
        if not text:
            raise _CellError(f"{zh}不能为空 / {en} is required")
        if text.lower() not in aliases:
            raise _CellError(f"{zh}“{text}”无效，应为{allowed} / invalid {en} '{text}'")
        return aliases[text.lower()]
    return parse


def parse_date(value: Any) -> date | None:
    """Excel date cells, 2020-01-02, 2020/1/2, 2020.1.2, 2020年1月2日, 20200102; None if empty."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)) and 1 < value < 2958466 and not (19000101 <= value <= 29991231):
        from openpyxl.utils.datetime import from_excel  # a date cell without date formatting
        return from_excel(value).date()
    text = _text(value)
    if not text:
        return None
    m = DATE.match(text) or re.match(r"^(\d{4})(\d{2})(\d{2})$", text)
    try:
        if m:
            return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        pass
    raise _CellError(f"日期“{text}”无法识别，示例 2020-01-02 / unrecognized date '{text}', e.g. 2020-01-02")


def _birth_date(value: Any, _: Mapping[str, str]) -> date | None:
    return parse_date(value)


def _joined_on(value: Any, _: Mapping[str, str]) -> date:
    day = parse_date(value)
    if day is None:
        raise _CellError("入党日期不能为空 / joining date is required")
    return day


def lookup_cell(value: Any, known: Mapping[str, str], zh: str, en: str) -> str:
    """A cell naming something of the county by id or exact name (所在支部, 所属乡镇) → its id."""
    text = _text(value)
    if not text:
        raise _CellError(f"{zh}不能为空 / {en} is required")
    if text not in known:
        raise _CellError(f"本县没有{zh}“{text}” / no {en} '{text}' in this county")
    return known[text]


def _branch(value: Any, branches: Mapping[str, str]) -> str:
    return lookup_cell(value, branches, "党支部", "branch")


PARSERS = {
    "name": _name,
    "gender": _alias(GENDER_ALIASES, "性别", "gender", "男/女"),
    "birth_date": _birth_date,
    "membership_status": _alias(STATUS_ALIASES, "党员类型", "membership status", "正式党员/预备党员"),
    "joined_on": _joined_on,
    "branch_id": _branch,
}
