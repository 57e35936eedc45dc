"""Exports fit to print: widths from the content, the header row repeated and frozen, rates as
percentages — the values themselves unchanged (a registry sheet still imports again)."""
from __future__ import annotations

import io
from datetime import date

from openpyxl import Workbook, load_workbook

from shared.print_layout import display_width, fit_to_print


def test_a_sheet_with_a_title_row_is_laid_out_for_print():
    wb = Workbook()
    ws = wb.active
    ws.append(["两新组织党组织覆盖情况统计表（截至 2026-06-30）"])
    ws.append(["乡镇", "code", "组织覆盖率", "应建单位数", "登记日期"])
    ws.append(["侨港镇侨港村", "qg", 0.875, 8, date(2025, 1, 15)])
    ws.append(["银滩镇", "yt", None, 0, date(2024, 3, 1)])
    buf = io.BytesIO()
    wb.save(buf)
    out = load_workbook(io.BytesIO(fit_to_print(buf.getvalue()))).active
    assert out.print_title_rows == "$2:$2" and out.freeze_panes == "A3"
    assert out["C3"].value == 0.875 and out["C3"].number_format == "0.0%"
    assert out["D3"].number_format == "General"  # a count stays a count
    assert out.column_dimensions["A"].width == display_width("侨港镇侨港村") + 2 == 14
    assert out.column_dimensions["B"].width == 6  # narrow, however long the title above it
    assert out["A2"].font.bold and out.page_setup.orientation == "landscape"
    assert out.page_setup.fitToWidth == 1 and out.page_setup.fitToHeight == 0


def test_what_is_not_a_workbook_is_sent_as_it_is():
    assert fit_to_print(b"not a workbook") == b"not a workbook"
