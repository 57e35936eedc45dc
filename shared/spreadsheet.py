"""Reading the spreadsheets counties exchange (CSV or .xlsx): the file, its header row, its cells.

Master data comes from the national member system or from 台账 kept in Excel, so headers may be
Chinese or English, CSV may be UTF-8 or GB18030, and dates come in every local style. An importer
names its columns (header text → field) and a parser per field; every problem becomes a `RowError`
with the spreadsheet's row number and a bilingual message, so a person can fix the file.

    table = read_table(filename, content)                      # raises CellError for a bad file
    for number, values in sheet_rows(table, columns_of, REQUIRED, errors): ...

Parsers raise `CellError`; the importer turns it into a RowError of that row and field.
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

MAX_ROWS = 20_000
DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
                  r"(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$")
COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
MARKS = re.compile(r"[\s*＊]")  # spaces and required-field marks around a header
COUNT = re.compile(r"^(\d{1,7})\s*(?:人|名)?$")


@dataclass(frozen=True)
class RowError:
    row: int  # spreadsheet row number, header row = 1 when it is the first row
    field: str
    message: str


def validation_errors(number: int, exc: Any) -> list[RowError]:
    """A row's pydantic ValidationError as row errors, each on the field it names."""
    return [RowError(number, str(x["loc"][0]) if x["loc"] else "row", x["msg"]) for x in exc.errors()]


class CellError(ValueError):
    """A cell (or the whole file) that cannot be read; the message is for people, Chinese / English."""


class SheetError(ValueError):
    """A problem of the whole file (e.g. too many rows): the import is this one error."""


# -- the file ------------------------------------------------------------------------------------
def is_xlsx(filename: str, content: bytes) -> bool:
    return filename.lower().endswith((".xlsx", ".xlsm")) or content.startswith(b"PK\x03\x04")


def read_table(filename: str, content: bytes) -> Iterator[list[Any]]:
    """The rows of the first sheet (xlsx) or of the CSV (comma or tab separated)."""
    return read_xlsx(content) if is_xlsx(filename, content) else read_csv(filename, content)


def read_csv(filename: str, content: bytes) -> Iterator[list[Any]]:
    if filename.lower().endswith(".xls") or content.startswith(b"\xd0\xcf\x11\xe0"):
        raise CellError("不支持旧版 .xls 文件，请另存为 .xlsx 或 CSV / old .xls files are not supported; "
                        "save as .xlsx or CSV")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = content.decode("gb18030")
        except UnicodeDecodeError:
            raise CellError("无法识别文件编码（应为 UTF-8 或 GB18030） / "
                            "cannot decode the file (expected UTF-8 or GB18030)") from None
    first = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first and "," not in first else ","
    return iter(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def read_xlsx(content: bytes) -> Iterator[list[Any]]:
    from openpyxl import load_workbook  # only needed for Excel uploads

    try:
        wb = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many types for a damaged or foreign file
        raise CellError("无法读取 Excel 文件，请确认是 .xlsx 格式 / cannot read the Excel file; "
                        "is it .xlsx?") from None
    ws = wb.worksheets[0]
    try:
        for row in ws.iter_rows(values_only=True):
            yield list(row)
    finally:
        wb.close()


# -- the header and the rows -----------------------------------------------------------------------
def header_columns(header: list[Any], headers: Mapping[str, str], noise: re.Pattern = MARKS) -> dict[int, str]:
    """Column index -> field by header text (Chinese or English, `noise` removed, lower case), first
    match wins; unknown columns are ignored."""
    columns: dict[int, str] = {}
    for i, cell in enumerate(header):
        f = headers.get(noise.sub("", text(cell)).lower())
        if f and f not in columns.values():
            columns[i] = f
    return columns


def sheet_rows(table: Iterable[list[Any]], columns_of: Callable[[list[Any]], dict[int, str]],
               required: Mapping[str, str], errors: list[RowError]) -> Iterator[tuple[int, dict[str, Any]]]:
    """(row number, values by field) of every non-empty data row. The first non-empty row is the
    header; missing required columns (field → Chinese name) and an empty file go into `errors`.
    More than MAX_ROWS data rows raise SheetError."""
    columns, count = None, 0
    for number, raw in enumerate(table, start=1):
        if all(text(v) == "" for v in raw):
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


def parse_cells(number: int, values: Mapping[str, Any], parsers: Mapping[str, Callable[[Any], Any]],
                errors: list[RowError]) -> dict[str, Any]:
    """Each field's parser on its cell; a CellError becomes a RowError of that field (and the field is
    left out of the result)."""
    parsed: dict[str, Any] = {}
    for f, parse in parsers.items():
        try:
            parsed[f] = parse(values.get(f))
        except CellError as e:
            errors.append(RowError(number, f, str(e)))
    return parsed


# -- cells ----------------------------------------------------------------------------------------
def text(value: Any) -> str:
    """A cell as trimmed text (Excel's 12.0 is "12")."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def parse_date(value: Any) -> date | None:
    """Excel date cells, 2020-01-02, 2020/1/2, 2020.1.2, 2020年1月2日, 20200102; None if empty."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)) and 1 < value < 2958466 and not (19000101 <= value <= 29991231):
        from openpyxl.utils.datetime import from_excel  # a date cell without date formatting
        return from_excel(value).date()
    cell = text(value)
    if not cell:
        return None
    m = DATE.match(cell) or COMPACT_DATE.match(cell)
    try:
        if m:
            return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        pass
    raise CellError(f"日期“{cell}”无法识别，示例 2020-01-02 / unrecognized date '{cell}', e.g. 2020-01-02")


def required_text(zh: str, en: str, limit: int) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        cell = text(value)
        if not cell:
            raise CellError(f"{zh}不能为空 / {en} is required")
        if len(cell) > limit:
            raise CellError(f"{zh}超过 {limit} 个字 / {en} longer than {limit} characters")
        return cell
    return parse


def choice(aliases: Mapping[str, Any], zh: str, en: str, allowed: str, default: Any = None) -> Callable[[Any], Any]:
    """A cell from a list of words (男/女, 正式党员/预备党员, ...) → its identifier; empty → `default`
    when one is given, else refused."""
    def parse(value: Any) -> Any:
        cell = text(value)
        if not cell and default is not None:
            return default
        if not cell:
            raise CellError(f"{zh}不能为空 / {en} is required")
        if cell.lower() not in aliases:
            raise CellError(f"{zh}“{cell}”无效，应为{allowed} / invalid {en} '{cell}'")
        return aliases[cell.lower()]
    return parse


def count(zh: str, en: str, default: int | None = None) -> Callable[[Any], int]:
    """A whole number ≥ 0, optionally followed by 人/名."""
    def parse(value: Any) -> int:
        cell = text(value)
        if not cell and default is not None:
            return default
        m = COUNT.match(cell)
        if not m:
            raise CellError(f"{zh}“{cell}”应为非负整数 / {en} must be a whole number ≥ 0, got '{cell}'"
                            if cell else f"{zh}不能为空 / {en} is required")
        return int(m[1])
    return parse


def lookup(known: Mapping[str, str], zh: str, en: str) -> Callable[[Any], str]:
    """A cell naming something of the county by id or exact name (所在支部, 所属乡镇) → its id."""
    def parse(value: Any) -> str:
        cell = text(value)
        if not cell:
            raise CellError(f"{zh}不能为空 / {en} is required")
        if cell not in known:
            raise CellError(f"本县没有{zh}“{cell}” / no {en} '{cell}' in this county")
        return known[cell]
    return parse


_NOT_IN_A_CELL = re.compile(r"[\000-\010\013\014\016-\037]")  # openpyxl's ILLEGAL_CHARACTERS_RE


def cells(values: Iterable[Any]) -> list[Any]:
    """A row for a workbook we write: a control character a cell cannot hold (stored in a name typed with
    one, say) becomes U+FFFD, so an export never fails on text the log accepted."""
    return [_NOT_IN_A_CELL.sub("\ufffd", v) if isinstance(v, str) else v for v in values]
