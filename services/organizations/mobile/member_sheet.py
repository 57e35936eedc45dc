"""The mobile-member registry (流动党员台账) as a spreadsheet in: each row a member away — recorded as away
(外出登记) or, with a registration date, registered as mobile (登记流动党员) — decided as the single commands
decide it (good standing, the rule table's months away, an open service point).

The row's key is the member and the departure (外出日期): a row whose departure is already recorded adds
nothing — or only the registration, when the record says "away" and the row now has one — so the same file
imported again records nothing twice, even after the member came back. All rows or none."""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import ValidationError

from shared.aggregate import Decision
from shared.errors import DomainError, FieldError
from shared.spreadsheet import (CellError, RowError, SheetError, header_columns, lookup, parse_cells, parse_date,
                                read_table, required_text, sheet_rows, text, validation_errors)
from services.organizations.mobile.commands import MobileImport, RecordMemberAway, RegisterMobileMember
from services.organizations.mobile.domain import MobileRecord, ServicePoint
from services.organizations.registry.domain import Member
from services.organizations.registry.registration import import_refused, row_errors
from services.organizations.rules.domain import RuleBook

COLUMNS = [("member", "党员"), ("branch_id", "所在支部"), ("away_since", "外出日期"), ("destination", "外出地点"),
           ("contact", "联系方式"), ("registered_on", "登记日期"), ("service_point", "服务站点"),
           ("receiving_organization", "接收党组织")]
HEADERS = {**{zh: f for f, zh in COLUMNS}, **{f: f for f, _ in COLUMNS}, "姓名": "member", "党员姓名": "member",
           "党员编号": "member", "支部": "branch_id", "流出党支部": "branch_id", "流入地": "destination", "外出地": "destination",
           "联系电话": "contact", "流动党员服务站点": "service_point", "流入地党组织": "receiving_organization"}
REQUIRED = {"member": "党员", "branch_id": "所在支部", "away_since": "外出日期", "destination": "外出地点"}
_NOISE = re.compile(r"[\s*＊]|[（(][^）)]*[）)]")


@dataclass
class MobileRow:
    number: int
    away: RecordMemberAway
    registration: RegisterMobileMember | None


def parse_mobile_file(filename: str, content: bytes, branches: Mapping[str, str],
                      members: Mapping[tuple[str, str], str], points: Mapping[str, str]) -> tuple[list[MobileRow],
                                                                                                 list[RowError]]:
    """`branches`: ids and exact names → ids; `members`: (branch id, member id or name) → member id (a name
    two members of the branch share is left out: the sheet names them by id); `points`: ids and names → ids."""
    parsers: dict[str, Callable[[Any], Any]] = {
        "member": required_text("党员", "member", 64), "branch_id": lookup(branches, "所在支部", "branch"),
        "away_since": parse_date, "destination": required_text("外出地点", "destination", 60),
        "contact": lambda v: text(v)[:60] or None, "registered_on": parse_date,
        "service_point": lambda v: lookup(points, "服务站点", "service point")(v) if text(v) else None,
        "receiving_organization": lambda v: text(v)[:80] or None}
    rows: list[MobileRow] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    try:
        for number, values in sheet_rows(read_table(filename, content), lambda h: header_columns(h, HEADERS, _NOISE),
                                         REQUIRED, errors):
            row_errs: list[RowError] = []
            p = parse_cells(number, values, parsers, row_errs)
            if "away_since" in p and p["away_since"] is None:
                row_errs.append(RowError(number, "away_since", "外出日期不能为空 / away_since is required"))
            if p.get("registered_on") and not p.get("contact"):
                row_errs.append(RowError(number, "contact", "登记流动党员须填联系方式 / contact is required to register"))
            member_id = members.get((p.get("branch_id"), p.get("member")))
            if not row_errs and member_id is None:
                row_errs.append(RowError(number, "member", f"所在支部没有党员“{p['member']}”（同名请填党员编号） / no "
                                                           f"member '{p['member']}' in that branch (use the id for "
                                                           "namesakes)"))
            if not row_errs and member_id in seen:
                row_errs.append(RowError(number, "member", f"与第 {seen[member_id]} 行重复 / same member as row "
                                                           f"{seen[member_id]}"))
            if row_errs:
                errors += row_errs
                continue
            seen[member_id] = number
            try:
                rows.append(_row(number, member_id, p))
            except ValidationError as exc:
                errors += validation_errors(number, exc)
    except (CellError, SheetError) as exc:
        return [], [RowError(1, "file", str(exc))]
    return rows, errors


def _row(number: int, member_id: str, p: dict[str, Any]) -> MobileRow:
    away = RecordMemberAway(member_id=member_id, away_since=p["away_since"], destination=p["destination"])
    registration = None
    if p.get("registered_on"):
        registration = RegisterMobileMember(
            member_id=member_id, away_since=p["away_since"], destination=p["destination"], contact=p["contact"],
            receiving_organization=p.get("receiving_organization"), service_point_id=p.get("service_point"),
            registered_on=p["registered_on"])
    return MobileRow(number, away, registration)


def record_mobile(rows: Sequence[MobileRow], records: Mapping[str, MobileRecord], members: Mapping[str, Member],
                  points: Mapping[str, ServicePoint], book: RuleBook, *, today: date,
                  errors: Sequence[FieldError] = ()) -> Decision:
    """Pure: each row's departure and registration not yet recorded; any refusal refuses the file."""
    problems, decision, away, registered, already = list(errors), Decision(), 0, 0, 0
    for row in rows:
        record, member = records[row.away.member_id], members[row.away.member_id]
        known = record.away_since is not None and row.away.away_since <= record.away_since
        try:
            if known and (record.status != "away" or row.registration is None):
                already += 1
                continue
            if row.registration is not None:
                reg = row.registration
                point = points.get(reg.service_point_id or "")
                decision.add(record, record.register(reg, member=member, point=point,
                                                     rules=book.in_force(reg.registered_on).mobile, today=today))
                registered += 1
            else:
                decision.add(record, record.record_away(row.away, member=member, today=today))
                away += 1
        except DomainError as exc:
            problems += row_errors(row.number, exc)
    if problems:
        raise import_refused(problems)
    decision.answer = MobileImport(away=away, registered=registered, already_imported=already)
    return decision
