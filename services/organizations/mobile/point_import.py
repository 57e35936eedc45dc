"""Service point spreadsheets (CSV or .xlsx) → RegisterServicePoint commands, with per-row errors.

Columns (Chinese or English headers): 站点名称 name, 所在地 location, 依托单位 host, 联系人 contact,
设立日期 opened_on. A row's id is derived from the name, so the same file imported again registers
nothing twice; any bad row refuses the whole file (registration decides every row first)."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from shared.aggregate import Decision
from shared.errors import DomainError, FieldError
from shared.ids import stable_id
from shared.spreadsheet import (CellError, RowError, SheetError, header_columns, parse_cells, parse_date, read_table,
                                required_text, sheet_rows)
from services.organizations.mobile.commands import RegisterServicePoint, ServicePointImport
from services.organizations.mobile.domain import ServicePoint
from services.organizations.registry.registration import import_refused, row_errors

HEADERS = {"站点名称": "name", "名称": "name", "name": "name", "所在地": "location", "location": "location",
           "依托单位": "host", "host": "host", "联系人": "contact", "联系方式": "contact", "contact": "contact",
           "设立日期": "opened_on", "opened_on": "opened_on"}
REQUIRED = {"name": "站点名称", "location": "所在地", "host": "依托单位", "contact": "联系人", "opened_on": "设立日期"}


def _opened_on(value: Any) -> date:
    day = parse_date(value)
    if day is None:
        raise CellError("设立日期不能为空 / opening date is required")
    return day


PARSERS = {"name": required_text("站点名称", "name", 80), "location": required_text("所在地", "location", 60),
           "host": required_text("依托单位", "host", 80), "contact": required_text("联系人", "contact", 60),
           "opened_on": _opened_on}


def parse_point_file(filename: str, content: bytes) -> tuple[list[RegisterServicePoint], list[int], list[RowError]]:
    rows: list[RegisterServicePoint] = []
    numbers: list[int] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    try:
        for number, values in sheet_rows(read_table(filename, content), lambda h: header_columns(h, HEADERS),
                                         REQUIRED, errors):
            row_errs: list[RowError] = []
            parsed = parse_cells(number, values, PARSERS, row_errs)
            if not row_errs and parsed["name"] in seen:
                row_errs.append(RowError(number, "name", f"与第 {seen[parsed['name']]} 行重复 / duplicate of row "
                                                         f"{seen[parsed['name']]}"))
            if row_errs:
                errors += row_errs
                continue
            seen[parsed["name"]] = number
            rows.append(RegisterServicePoint(service_point_id=stable_id("service_point", parsed["name"]), **parsed))
            numbers.append(number)
    except (SheetError, CellError) as exc:
        return [], [], [RowError(1, "file", str(exc))]
    return rows, numbers, errors


def register_points(rows: Sequence[RegisterServicePoint], numbers: Sequence[int], points: Sequence[ServicePoint],
                    *, today: date, errors: Sequence[FieldError] = ()) -> Decision:
    """`points[i]` is the aggregate of `rows[i]`; one already registered (an earlier run) is counted, not
    registered again."""
    problems, decision, already = list(errors), Decision(), 0
    for number, cmd, point in zip(numbers, rows, points):
        if point.exists:
            already += 1
            continue
        try:
            decision.add(point, point.register(cmd, today=today))
        except DomainError as exc:
            problems += row_errors(number, exc)
    if problems:
        raise import_refused(problems)
    decision.answer = ServicePointImport(imported=len(decision.changes), already_registered=already,
                                         service_point_ids=[r.service_point_id or "" for r in rows])
    return decision
