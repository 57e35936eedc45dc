"""The 积分表 a township uploads, read into score entries, and the workbooks that go back: the template
and the result of an import (every row with its outcome, refused rows with the reason and the column).

Columns (Chinese or English headers): 对象类型 rated_kind (党员/党组织, default 党员), 对象编号 rated_id,
年度 year (default: the year of 发生日期), 类别 category, 分值 points (± whole number), 事由 reason,
证明材料 evidence_ref, 发生日期 occurred_on, 幂等键 idempotency_key. Without a key, a row's key is derived
from its content, so uploading the same table again records nothing twice."""
from __future__ import annotations

import hashlib
import io
import re
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill

from shared.spreadsheet import (CellError, RowError, SheetError, choice, header_columns, parse_cells, parse_date,
                                read_table, required_text, sheet_rows, text)

HEADERS: dict[str, str] = {
    "对象类型": "rated_kind", "rated_kind": "rated_kind",
    "对象编号": "rated_id", "党员编号": "rated_id", "rated_id": "rated_id",
    "年度": "year", "year": "year",
    "类别": "category", "星位类别": "category", "category": "category",
    "分值": "points", "积分": "points", "points": "points",
    "事由": "reason", "积分事由": "reason", "reason": "reason",
    "证明材料": "evidence_ref", "evidence_ref": "evidence_ref",
    "发生日期": "occurred_on", "occurred_on": "occurred_on",
    "幂等键": "idempotency_key", "idempotency_key": "idempotency_key",
}
REQUIRED = {"rated_id": "对象编号", "category": "类别", "points": "分值", "reason": "事由", "occurred_on": "发生日期"}
TEMPLATE_COLUMNS = ["对象类型", "对象编号", "年度", "类别", "分值", "事由", "证明材料", "发生日期", "幂等键"]
KINDS = {"党员": "member", "member": "member", "党组织": "organization", "organization": "organization"}
SIGNED = re.compile(r"^[+-]?\d{1,5}$")


def _points(value: Any) -> int:
    cell = text(value)
    if not SIGNED.match(cell):
        raise CellError(f"分值“{cell}”应为整数（扣分为负数） / points must be a whole number, got '{cell}'"
                        if cell else "分值不能为空 / points is required")
    return int(cell)


def _year(value: Any) -> int | None:
    cell = text(value)
    if not cell:
        return None
    if not re.fullmatch(r"\d{4}", cell):
        raise CellError(f"年度“{cell}”应为四位年份 / year must be four digits, got '{cell}'")
    return int(cell)


def _optional(limit: int):
    def parse(value: Any) -> str | None:
        cell = text(value)
        if len(cell) > limit:
            raise CellError(f"超过 {limit} 个字 / longer than {limit} characters")
        return cell or None
    return parse


PARSERS = {
    "rated_kind": choice(KINDS, "对象类型", "rated_kind", "党员/党组织", default="member"),
    "rated_id": required_text("对象编号", "rated_id", 64), "year": _year,
    "category": required_text("类别", "category", 40), "points": _points,
    "reason": required_text("事由", "reason", 500), "evidence_ref": _optional(200),
    "occurred_on": parse_date, "idempotency_key": _optional(100),
}


def read_scores(filename: str, content: bytes) -> tuple[list[tuple[int, dict[str, Any]]], list[RowError]]:
    """(row number, score entry) of every readable row, and the errors of the rows and cells that are not."""
    errors: list[RowError] = []
    rows: list[tuple[int, dict[str, Any]]] = []
    try:
        for number, values in sheet_rows(read_table(filename, content), lambda h: header_columns(h, HEADERS),
                                         REQUIRED, errors):
            before = len(errors)
            entry = parse_cells(number, values, PARSERS, errors)
            if entry.get("occurred_on") is None and "occurred_on" in entry:
                errors.append(RowError(number, "occurred_on", "发生日期不能为空 / occurred_on is required"))
            if len(errors) > before:
                continue
            entry["year"] = entry["year"] or entry["occurred_on"].year
            entry["occurred_on"] = entry["occurred_on"].isoformat()
            entry["idempotency_key"] = entry["idempotency_key"] or row_key(entry)
            rows.append((number, {k: v for k, v in entry.items() if v is not None}))
    except (CellError, SheetError) as exc:
        errors.append(RowError(1, "file", str(exc)))
    return rows, errors


def row_key(entry: dict[str, Any]) -> str:
    """A row without 幂等键: its content is its key (the same row uploaded again is the same score)."""
    fields = ("rated_kind", "rated_id", "year", "category", "points", "reason", "evidence_ref", "occurred_on")
    digest = hashlib.sha256("\x1f".join(str(entry.get(f) or "") for f in fields).encode()).hexdigest()
    return f"sheet-{digest[:40]}"


def _workbook(header: list[str], rows: list[list[Any]], title: str, marked: set[int] = frozenset()) -> bytes:
    """A one-sheet workbook; rows whose position is in `marked` are highlighted."""
    wb = Workbook()
    ws = wb.active
    ws.title = title
    ws.append(header)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    fill = PatternFill("solid", fgColor="FFF2CC")
    for i, row in enumerate(rows):
        ws.append(row)
        if i in marked:
            for cell in ws[ws.max_row]:
                cell.fill = fill
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def template() -> bytes:
    """The 积分表 template: the header row and one example row."""
    return _workbook(TEMPLATE_COLUMNS, [["党员", "zhang-xiuling", 2026, "member_corps", 5, "带头参与防汛抢险",
                                         "会议记录-2026-07", "2026-07-20", ""]], "积分表")


def result_workbook(outcomes: list[dict[str, Any]]) -> bytes:
    """Every row's outcome — 已记录 / 已记录过 (the same row recorded before) / 未通过 with the column(s) and
    the reason; refused rows highlighted."""
    rows, marked = [], set()
    for i, o in enumerate(sorted(outcomes, key=lambda o: o["row"])):
        error = o.get("error") or {}
        fields = "; ".join(e["field"] for e in error.get("errors", []))
        reason = "; ".join(e["message"] for e in error.get("errors", [])) or error.get("detail", "")
        status = "未通过" if not o["ok"] else ("已记录过" if o["replayed"] else "已记录")
        if not o["ok"]:
            marked.add(i)
        rows.append([o["row"], status, o.get("score_id") or "", fields, reason])
    return _workbook(["行号", "结果", "积分编号", "问题列", "原因"], rows, "导入结果", marked)
