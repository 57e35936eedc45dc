"""Workbooks fit to print, whichever context built them: every exported sheet gets column widths from
its content (a Chinese character counts two), its header row bold, frozen and repeated on every printed
page, landscape fitted to one page wide (as many pages tall as it takes), and rates shown as
percentages (a column whose header says 率 / rate / 比例 and holds fractions: 0.875 → 87.5%). Values
stay as they are, so a sheet that imports again still does. Applied where exports leave the system
(the gateway's downloads, the CLI's export commands), so older exports get it too."""
from __future__ import annotations

import io
import re
import unicodedata
from typing import Any

from openpyxl import load_workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

RATE_HEADER = re.compile(r"率|比例|rate|percent", re.IGNORECASE)
MIN_WIDTH, MAX_WIDTH = 6, 60
HEADER_SCAN = 4  # a title row or two may come first


def display_width(value: Any) -> int:
    text = value.strftime("%Y-%m-%d") if hasattr(value, "strftime") else str(value)
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in max(text.split("\n"), key=len))


def header_row(ws) -> int | None:
    """The first of the top rows whose cells are mostly text naming columns (a title row has one cell)."""
    columns = ws.max_column
    for r, row in enumerate(ws.iter_rows(min_row=1, max_row=min(HEADER_SCAN, ws.max_row), values_only=True), 1):
        names = [v for v in row if isinstance(v, str) and v.strip()]
        if len(names) >= 2 and len(names) * 2 >= columns:
            return r
    return None


def lay_out(ws) -> None:
    head = header_row(ws)
    widths: dict[int, int] = {}
    for row in ws.iter_rows(min_row=head or 1):  # a title row above the header spans the page anyway
        for cell in row:
            if cell.value is not None:
                widths[cell.column] = max(widths.get(cell.column, 0), display_width(cell.value))
    for column, width in widths.items():
        ws.column_dimensions[get_column_letter(column)].width = max(MIN_WIDTH, min(MAX_WIDTH, width + 2))
    if head:
        for cell in ws[head]:
            cell.font = Font(bold=True)
            if isinstance(cell.value, str) and RATE_HEADER.search(cell.value):
                for (value_cell,) in ws.iter_rows(min_row=head + 1, min_col=cell.column, max_col=cell.column):
                    value = value_cell.value  # a rate of 0 or 1 may come back from a workbook as an int
                    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= 1:
                        value_cell.number_format = "0.0%"
        ws.print_title_rows = f"{head}:{head}"
        ws.freeze_panes = ws.cell(head + 1, 1)
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def fit_to_print(content: bytes) -> bytes:
    """The workbook with every sheet laid out for print (see the module); anything not a workbook as is."""
    try:
        wb = load_workbook(io.BytesIO(content))
    except Exception:  # noqa: BLE001 — not ours to judge: the export is sent as the service built it
        return content
    for ws in wb.worksheets:
        lay_out(ws)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
