"""Bulk registration of 两新组织 (the unit import), decided on every row at once: pure.

A unit's id is derived from the county and its credit code, so importing the same file again maps
to the same units: one registered under the same name is counted as already imported, and deciding
again after an interrupted run registers only what is missing. Any bad row refuses the whole file.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date

from shared.aggregate import Decision
from shared.errors import DomainError, FieldError
from shared.ids import stable_id
from services.organizations.enterprises.commands import EnterpriseImport, RegisterEnterprise
from services.organizations.enterprises.domain import Enterprise
from services.organizations.registry.domain import Township
from services.organizations.registry.registration import import_refused, row_errors


def unit_id(county: str, uscc: str) -> str:
    """The id of the unit holding a (valid, normalized) credit code in a county."""
    return stable_id("enterprise", county, uscc)


def register_units(rows: Sequence[RegisterEnterprise], row_numbers: Sequence[int], units: Mapping[str, Enterprise],
                   townships: Mapping[str, Township], holders: Mapping[str, str], *, county: str, import_id: str,
                   today: date, errors: Sequence[FieldError] = (),
                   check_scope: Callable[[str], None] = lambda township_id: None) -> Decision:
    """`units` by id, `townships` by id (every one the rows name), `holders` credit code → the unit
    holding it in the county's registry; `errors` the spreadsheet's own problems; `check_scope`
    refuses a township outside the actor's scope (reported as that row's error)."""
    problems, decision, already = list(errors), Decision(), 0
    for number, cmd in zip(row_numbers, rows):
        try:
            check_scope(cmd.township_id)
            unit = units[unit_id(county, cmd.uscc)]
            if unit.exists and unit.name == cmd.name:
                already += 1
                continue
            decision.add(unit, unit.register(cmd, uscc_taken=holders.get(cmd.uscc) not in (None, unit.id),
                                             township_exists=townships[cmd.township_id].exists, today=today))
        except DomainError as exc:
            problems += row_errors(number, exc)
    if problems:
        raise import_refused(problems)
    decision.answer = EnterpriseImport(imported=len(decision.changes), already_imported=already, import_id=import_id)
    return decision
