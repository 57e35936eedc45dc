"""The centre registry as a spreadsheet, both ways: rows of a .csv/.xlsx → RegisterCentre commands with
per-row errors, the pure bulk registration of those rows, and the registry (台账) as an .xlsx whose
first columns are the import's, so an exported registry imports again unchanged.

A row's centre id comes from the county, level, township and name, so importing the same file again
maps to the same centres (counted as already imported) and an interrupted import only adds what is missing.
"""
from __future__ import annotations

import io
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import ValidationError

from shared.aggregate import Decision
from shared.errors import DomainError, FieldError
from shared.ids import stable_id
from shared.spreadsheet import (CellError, RowError, SheetError, choice, count, header_columns, lookup, parse_cells,
                                parse_date, read_table, required_text, sheet_rows, text, validation_errors)
from services.organizations.centres.commands import (KIND_ALIASES, LEVEL_ALIASES, LEVEL_NAMES, WINDOW_ALIASES,
                                                     WINDOW_NAMES, ZONE_ALIASES, ZONE_NAMES, CentreImport,
                                                     RegisterCentre)
from services.organizations.centres.domain import Centre
from services.organizations.registry.domain import Organization
from services.organizations.registry.registration import import_refused, row_errors

COLUMNS = [("name", "名称"), ("kind", "类型"), ("level", "层级"), ("township_id", "乡镇"),
           ("organization_id", "村社区党组织"), ("floor_area_m2", "面积"), ("zones", "功能区"), ("windows", "服务窗口"),
           ("signage", "标识"), ("night_visible", "夜间可视"), ("address", "地址"), ("opened_on", "建成日期")]
HEADERS = {**{zh: f for f, zh in COLUMNS}, **{f: f for f, _ in COLUMNS},
           "中心名称": "name", "所属乡镇": "township_id", "乡镇街道": "township_id", "所服务党组织": "organization_id",
           "建筑面积": "floor_area_m2", "面积平方米": "floor_area_m2", "统一标识": "signage", "投用日期": "opened_on"}
REQUIRED = {"name": "名称", "level": "层级", "floor_area_m2": "面积", "opened_on": "建成日期"}
_NOISE = re.compile(r"[\s*＊]|[（(][^）)]*[）)]")  # spaces, required marks, "(平方米)"
_LIST = re.compile(r"[、,，;；/\s]+")
_YES_NO = {"是": True, "有": True, "否": False, "无": False, "y": True, "n": False, "yes": True, "no": False,
           "true": True, "false": False, "1": True, "0": False}


def centre_id_of(county: str, cmd: RegisterCentre) -> str:
    return stable_id("centre", county, cmd.level, cmd.township_id or "", cmd.name)


@dataclass
class CentreImportPlan:
    rows: list[RegisterCentre] = field(default_factory=list)
    row_numbers: list[int] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def _items(aliases: Mapping[str, str], zh: str) -> Callable[[Any], list[str]]:
    def parse(value: Any) -> list[str]:
        words = [w for w in _LIST.split(text(value)) if w]
        unknown = [w for w in words if w.lower() not in aliases]
        if unknown:
            raise CellError(f"{zh}“{'、'.join(unknown)}”无法识别 / unknown {zh}: {unknown}")
        return [aliases[w.lower()] for w in words]
    return parse


def _optional(known: Mapping[str, str], zh: str, en: str) -> Callable[[Any], str | None]:
    find = lookup(known, zh, en)
    return lambda value: find(value) if text(value) else None


def parse_centre_file(filename: str, content: bytes, townships: Mapping[str, str],
                      organizations: Mapping[str, str]) -> CentreImportPlan:
    """`townships` and `organizations` map ids and exact names to ids."""
    parsers = {"name": required_text("名称", "name", 80),
               "kind": choice(KIND_ALIASES, "类型", "kind", "中心/站", default="centre"),
               "level": choice(LEVEL_ALIASES, "层级", "level", "县级/乡镇/村/社区/园区/企业/楼宇"),
               "township_id": _optional(townships, "乡镇", "township"),
               "organization_id": _optional(organizations, "党组织", "organization"),
               "floor_area_m2": count("面积", "floor area"), "zones": _items(ZONE_ALIASES, "功能区"),
               "windows": _items(WINDOW_ALIASES, "服务窗口"),
               "signage": choice(_YES_NO, "标识", "signage", "是/否", default=False),
               "night_visible": choice(_YES_NO, "夜间可视", "night visibility", "是/否", default=False),
               "address": lambda v: text(v)[:120] or None, "opened_on": parse_date}
    plan, seen = CentreImportPlan(), {}
    try:
        table = read_table(filename, content)
        for number, values in sheet_rows(table, lambda h: header_columns(h, HEADERS, _NOISE), REQUIRED, plan.errors):
            errors: list[RowError] = []
            parsed = parse_cells(number, values, parsers, errors)
            if "opened_on" in parsed and parsed["opened_on"] is None:
                errors.append(RowError(number, "opened_on", "建成日期不能为空 / opening date is required"))
            key = (parsed.get("level"), parsed.get("township_id"), parsed.get("name"))
            if not errors and seen.setdefault(key, number) != number:
                errors.append(RowError(number, "name", f"与第 {seen[key]} 行重复 / same centre as row {seen[key]}"))
            if errors:
                plan.errors.extend(errors)
                continue
            try:
                plan.rows.append(RegisterCentre(**parsed))
                plan.row_numbers.append(number)
            except ValidationError as e:
                plan.errors.extend(validation_errors(number, e))
    except (CellError, SheetError) as e:
        return CentreImportPlan(errors=[RowError(1, "file", str(e))])
    return plan


def register_centres(county: str, rows: Sequence[RegisterCentre], row_numbers: Sequence[int],
                     centres: Mapping[str, Centre], townships: set[str], served: Mapping[str, Organization], *,
                     import_id: str, today: date, errors: Sequence[FieldError] = (),
                     check_scope: Callable[[str | None], None] = lambda township_id: None) -> Decision:
    """`centres` by id (every row's), `townships` the county's ids, `served` the organizations rows name."""
    problems, decision, already = list(errors), Decision(), 0
    for number, cmd in zip(row_numbers, rows):
        try:
            check_scope(cmd.township_id)
            centre = centres[centre_id_of(county, cmd)]
            if centre.exists and centre.name == cmd.name:
                already += 1
                continue
            decision.add(centre, centre.register(cmd, township_exists=cmd.township_id in townships,
                                                 served=served.get(cmd.organization_id or ""), today=today))
        except DomainError as exc:
            problems += row_errors(number, exc)
    if problems:
        raise import_refused(problems)
    decision.answer = CentreImport(imported=len(decision.changes), already_imported=already, import_id=import_id)
    return decision


def registry_xlsx(entries: Sequence[dict], townships: Mapping[str, str], organizations: Mapping[str, str]) -> bytes:
    """The registry (台账): the import's columns by name, then the last inspection and the plaque."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "党群服务中心台账"
    ws.append([zh for _, zh in COLUMNS] + ["编号", "最近核查", "是否达标", "未达标项", "挂牌日期", "关闭日期"])
    for e in entries:
        ws.append([e["name"], "站" if e["kind"] == "station" else "中心", LEVEL_NAMES[e["level"]],
                   townships.get(e["township_id"] or "", e["township_id"] or ""),
                   organizations.get(e["organization_id"] or "", e["organization_id"] or ""), e["floor_area_m2"],
                   "、".join(ZONE_NAMES[z] for z in e["zones"]), "、".join(WINDOW_NAMES[w] for w in e["windows"]),
                   "是" if e["signage"] else "否", "是" if e["night_visible"] else "否", e["address"] or "",
                   e["opened_on"], e["centre_id"], e["inspected_on"], "是" if e["to_standard"] else "否",
                   "、".join(e["missing"]), e["plaqued_on"], e.get("closed_on")])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
