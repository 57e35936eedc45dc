"""Downloads fit to print, the older exports too: the coverage table names townships (not ids), shows
rates as percentages, repeats its header on every page; the rectification ledger likewise."""
from __future__ import annotations

import io

from openpyxl import load_workbook

from tests.e2e.test_workbench_browser import seed_county


async def test_exports_are_fit_to_print_with_names(http, settings):
    code, admin = await seed_county(http, settings)
    r = await http.get(f"/api/v1/counties/{code}/coverage.xlsx", headers=admin)
    assert r.status_code == 200, r.text
    wb = load_workbook(io.BytesIO(r.content))
    table = wb["覆盖情况"]
    assert table.print_title_rows == "$2:$2" and table.freeze_panes == "A3"
    townships = [row for row in table.iter_rows(min_row=3) if row[0].value == "乡镇"]
    assert "侨港镇" in {row[1].value for row in townships} and "qiaogang" not in {row[1].value for row in townships}
    rate = next(row for row in table.iter_rows(min_row=3) if row[0].value == "全县")[6]
    assert 0 <= rate.value <= 1 and rate.number_format == "0.0%"
    assert all(ws.page_setup.fitToWidth == 1 and ws.page_setup.orientation == "landscape" for ws in wb.worksheets)
    gaps = wb["差距清单"]
    assert any(row[3] == "侨港镇" for row in gaps.iter_rows(min_row=2, values_only=True))

    r = await http.get(f"/api/v1/counties/{code}/rectification-ledger.xlsx", headers=admin)
    assert r.status_code == 200, r.text
    ledger = load_workbook(io.BytesIO(r.content)).active
    assert ledger.print_title_rows == "$1:$1" and ledger["A1"].font.bold
    assert ledger.column_dimensions["A"].width > 6
