"""The development ledger (发展党员台账) as a spreadsheet in: each row an applicant with the steps taken so far —
application, activist (with the training contacts), development candidate — recorded as the single
commands record them (same rules, read from the rule table in force on each step's date).

A row's applicant id comes from the county, branch, name and birth date, so the same file imported again
records nothing twice, and a later version of it (a candidate date filled in) adds only the new step.
Admission and what follows need the branch meeting and the upper approval: they are recorded one by one.
All rows or none."""
from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import ValidationError

from shared.aggregate import Decision
from shared.errors import DomainError, FieldError
from shared.ids import stable_id
from shared.spreadsheet import (CellError, RowError, SheetError, header_columns, lookup, parse_cells, parse_date,
                                read_table, required_text, sheet_rows, text, validation_errors)
from services.organizations.development.commands import (ApplicantImport, DesignateActivist, DesignateCandidate,
                                                         ReceiveApplication)
from services.organizations.development.domain import Applicant
from services.organizations.registry.domain import Organization
from services.organizations.registry.registration import import_refused, row_errors
from services.organizations.rules.domain import RuleBook

COLUMNS = [("name", "姓名"), ("gender", "性别"), ("birth_date", "出生日期"), ("branch_id", "所在支部"),
           ("applied_on", "申请日期"), ("received_by", "接收人"), ("activist_on", "确定积极分子日期"),
           ("training_contacts", "培养联系人"), ("candidate_on", "确定发展对象日期"), ("decided_by", "决定机构")]
HEADERS = {**{zh: f for f, zh in COLUMNS}, **{f: f for f, _ in COLUMNS}, "申请人": "name", "支部": "branch_id",
           "党支部": "branch_id", "入党申请日期": "applied_on", "谈话人": "received_by", "积极分子日期": "activist_on",
           "发展对象日期": "candidate_on", "联系人": "training_contacts"}
REQUIRED = {"name": "姓名", "gender": "性别", "birth_date": "出生日期", "branch_id": "所在支部", "applied_on": "申请日期",
            "received_by": "接收人"}
_NOISE = re.compile(r"[\s*＊]|[（(][^）)]*[）)]")
_LIST = re.compile(r"[、,，;；/\s]+")
STAGE_ORDER = {None: 0, "applicant": 1, "activist": 2, "candidate": 3}


@dataclass
class ApplicantRow:
    number: int
    application: ReceiveApplication
    activist: DesignateActivist | None
    candidate: DesignateCandidate | None


def applicant_id_of(county: str, branch_id: str, name: str, birth_date: date) -> str:
    return stable_id("applicant", county, branch_id, name, birth_date.isoformat())


def _contacts(value: Any) -> list[str]:
    return [w for w in _LIST.split(text(value)) if w]


def parse_applicant_file(county: str, filename: str, content: bytes,
                         branches: Mapping[str, str]) -> tuple[list[ApplicantRow], list[RowError]]:
    """`branches` maps organization ids and exact names to ids."""
    parsers: dict[str, Callable[[Any], Any]] = {
        "name": required_text("姓名", "name", 40), "gender": lambda v: text(v), "birth_date": parse_date,
        "branch_id": lookup(branches, "所在支部", "branch"), "applied_on": parse_date,
        "received_by": required_text("接收人", "received_by", 40), "activist_on": parse_date,
        "training_contacts": _contacts, "candidate_on": parse_date, "decided_by": lambda v: text(v)[:40] or "支部委员会"}
    rows: list[ApplicantRow] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    try:
        for number, values in sheet_rows(read_table(filename, content), lambda h: header_columns(h, HEADERS, _NOISE),
                                         REQUIRED, errors):
            row_errs: list[RowError] = []
            p = parse_cells(number, values, parsers, row_errs)
            for f in ("birth_date", "applied_on"):
                if f in p and p[f] is None:
                    row_errs.append(RowError(number, f, f"{dict(COLUMNS)[f]}不能为空 / {f} is required"))
            if p.get("candidate_on") and not p.get("activist_on"):
                row_errs.append(RowError(number, "activist_on", "确定发展对象前须先确定为积极分子 / a candidate was "
                                                                "an activist first: activist_on is required"))
            if row_errs:
                errors += row_errs
                continue
            aid = applicant_id_of(county, p["branch_id"], p["name"], p["birth_date"])
            if aid in seen:
                errors.append(RowError(number, "name", f"与第 {seen[aid]} 行重复 / same applicant as row {seen[aid]}"))
                continue
            seen[aid] = number
            try:
                rows.append(_row(number, aid, p))
            except ValidationError as exc:
                errors += validation_errors(number, exc)
    except (CellError, SheetError) as exc:
        return [], [RowError(1, "file", str(exc))]
    return rows, errors


def _row(number: int, aid: str, p: dict[str, Any]) -> ApplicantRow:
    application = ReceiveApplication(name=p["name"], gender=p["gender"], birth_date=p["birth_date"],
                                     branch_id=p["branch_id"], applied_on=p["applied_on"],
                                     received_by=p["received_by"], applicant_id=aid)
    activist = DesignateActivist(applicant_id=aid, designated_on=p["activist_on"], decided_by=p["decided_by"],
                                 training_contacts=p["training_contacts"]) if p.get("activist_on") else None
    candidate = DesignateCandidate(applicant_id=aid, designated_on=p["candidate_on"],
                                   decided_by=p["decided_by"]) if p.get("candidate_on") else None
    return ApplicantRow(number, application, activist, candidate)


def record_applicants(rows: Sequence[ApplicantRow], applicants: Mapping[str, Applicant],
                      branches: Mapping[str, Organization], book: RuleBook, *, today: date,
                      errors: Sequence[FieldError] = ()) -> Decision:
    """Pure: each row's steps not yet recorded, in order, decided on a copy of its applicant (so a step
    sees the one before it); the aggregates given are not changed. Any refusal refuses the file."""
    problems, decision, imported, already, steps = list(errors), Decision(), 0, 0, 0
    for row in rows:
        state = applicants[row.application.applicant_id or ""]
        draft, events = copy.deepcopy(state), []
        try:
            if draft.exists:
                already += 1
            else:
                events += _step(draft, draft.receive(row.application, branch=branches[row.application.branch_id],
                                                     rules=book.in_force(row.application.applied_on).development,
                                                     today=today))
                imported += 1
            reached = STAGE_ORDER.get(draft.stage, 4)
            if row.activist and reached < STAGE_ORDER["activist"]:
                events += _step(draft, draft.designate_activist(
                    row.activist, rules=book.in_force(row.activist.designated_on).development, today=today))
            if row.candidate and STAGE_ORDER.get(draft.stage, 4) < STAGE_ORDER["candidate"]:
                events += _step(draft, draft.designate_candidate(
                    row.candidate, rules=book.in_force(row.candidate.designated_on).development, today=today))
        except DomainError as exc:
            problems += row_errors(row.number, exc)
            continue
        steps += len(events)
        decision.add(state, events)
    if problems:
        raise import_refused(problems)
    decision.answer = ApplicantImport(imported=imported, already_imported=already, steps=steps,
                                      applicant_ids=[r.application.applicant_id or "" for r in rows])
    return decision


def _step(draft: Applicant, events: list) -> list:
    for e in events:
        draft.apply(e)
    return events
