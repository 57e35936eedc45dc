"""Excel files of the workbench: import templates (the columns the imports read, an example row) and the
error workbook of a refused import (every row of the upload with its errors beside it), both fit to
print (column widths, frozen and repeated header row)."""
from __future__ import annotations

import io
import re
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill

from shared.spreadsheet import SheetError, read_table

TEMPLATES = {  # kind: (title, columns, example row)
    "members": ("党员导入模板", ["姓名", "性别", "出生日期", "党员类型", "入党日期", "所在支部"],
                ["张秀玲", "女", "1980-05-01", "正式党员", "2010-07-01", "侨港镇侨港村党支部"]),
    "enterprises": ("两新组织导入模板", ["统一社会信用代码", "单位名称", "类型", "乡镇", "行业", "从业人员", "正式党员", "登记日期"],
                    ["91450503MA5KQ0G16K", "北海市侨港海产品加工有限公司", "非公企业", "侨港镇", "制造业", "45", "3", "2025-01-15"]),
}
ROW = re.compile(r"^(?:row |file\.row)(\d+)(?:(?::\s*|\.)(.*))?$")  # "row 3: joined_on", "file.row3.points"
HEAD = Font(bold=True, color="FFFFFF")
FILL = PatternFill("solid", fgColor="C8161D")


def _finish(ws, widths: list[int]) -> bytes:
    for i, width in enumerate(widths):
        ws.column_dimensions[chr(ord("A") + i)].width = width
    for cell in ws[1]:
        cell.font, cell.fill = HEAD, FILL
    ws.freeze_panes = "A2"
    ws.print_title_rows = "1:1"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0  # one page wide, as many tall as it takes
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    out = io.BytesIO()
    ws.parent.save(out)
    return out.getvalue()


def template(kind: str, templates: dict[str, tuple[str, list[str], list[Any]]] = TEMPLATES) -> tuple[str, bytes]:
    """(file name, workbook) of `templates[kind]` (the API's registry templates pass their own)."""
    title, columns, example = templates[kind]
    wb = Workbook()
    ws = wb.active
    ws.title = title
    ws.append(columns)
    ws.append(example)
    return f"{title}.xlsx", _finish(ws, [max(12, len(c) * 2 + 4, len(str(e)) + 4) for c, e in zip(columns, example)])


def error_rows(errors: list[dict[str, str]]) -> dict[int, list[str]]:
    """{spreadsheet row: ["field: message", ...]} from a refusal's errors ("row 3: joined_on")."""
    by_row: dict[int, list[str]] = {}
    for e in errors:
        m = ROW.match(e.get("field", ""))
        row = int(m.group(1)) if m else 1
        field = (m.group(2) if m else e.get("field")) or ""
        by_row.setdefault(row, []).append(f"{field}：{e.get('message', '')}" if field else e.get("message", ""))
    return by_row


def error_workbook(filename: str, content: bytes, errors: list[dict[str, str]]) -> bytes:
    """The uploaded rows as they were, with a 错误 column: what to correct, row by row."""
    by_row = error_rows(errors)
    wb = Workbook()
    ws = wb.active
    ws.title = "导入错误"
    try:
        rows: list[list[Any]] = [list(r) for r in read_table(filename, content)]
    except (SheetError, ValueError):
        rows = []
    width = max((len(r) for r in rows), default=0)
    if rows:
        ws.append(["行号", "错误", *rows[0]])
        for number, row in enumerate(rows[1:], start=2):
            ws.append([number, "；".join(by_row.get(number, [])), *row])
    else:
        ws.append(["行号", "错误"])
        for number, messages in sorted(by_row.items()):
            ws.append([number, "；".join(messages)])
    for row in ws.iter_rows(min_row=2):
        row[1].alignment = Alignment(wrap_text=True, vertical="top")
        if row[1].value:
            row[1].font = Font(color="C8161D")
    return _finish(ws, [8, 48, *([16] * width)])
