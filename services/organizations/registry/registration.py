"""Bulk member registration (the member import), decided on every row at once: pure.

Every row is checked by the domain first; any bad row refuses the whole file, with one entry per
problem. The executor appends the registrations in atomic batches of ≤1,000 events. Member ids are
derived from the row content and each registration records the import id, so deciding again after
an interrupted run (or a conflict) registers only the rows still missing — never a member twice.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

from shared.aggregate import Decision
from shared.errors import DomainError, FieldError
from services.organizations.registry.commands import MemberImport, RegisterMember
from services.organizations.registry.domain import Member, Organization


def import_refused(errors: list[FieldError]) -> DomainError:
    return DomainError("import_rejected", f"导入未执行：{len(errors)} 处错误 / import refused: {len(errors)} "
                       "problem(s), nothing was imported", 422, errors)


def row_errors(number: int, exc: DomainError) -> list[FieldError]:
    """A domain refusal of one row as field errors named "row <n>: <field>"."""
    return [FieldError(f"row {number}: {e.field}", e.message) for e in exc.errors] or \
        [FieldError(f"row {number}", exc.detail)]


def register_members(rows: Sequence[RegisterMember], row_numbers: Sequence[int], members: Sequence[Member],
                     branches: dict[str, Organization], *, import_id: str, today: date,
                     errors: Sequence[FieldError] = (),
                     check_scope: Callable[[Organization], None] = lambda branch: None) -> Decision:
    """`members[i]` is the aggregate of `rows[i]`; `branches` every branch the rows name; `errors` the
    spreadsheet's own problems (reported together with the domain's); `check_scope` refuses a branch
    outside the actor's scope (for the whole import)."""
    for branch in branches.values():
        check_scope(branch)
    problems, decision, already = list(errors), Decision(), 0
    for number, cmd, member in zip(row_numbers, rows, members):
        if member.exists and member.import_id == import_id:
            already += 1  # stored by an earlier, interrupted run of this same file
            continue
        try:
            decision.add(member, member.register(cmd, branch=branches[cmd.branch_id], today=today,
                                                 import_id=import_id))
        except DomainError as exc:
            problems += row_errors(number, exc)
    if problems:
        problems.sort(key=lambda e: int(e.field.split()[1].rstrip(":")) if e.field.startswith("row ") else 0)
        raise import_refused(problems)
    decision.answer = MemberImport(import_id=import_id, imported=len(decision.changes), already_imported=already,
                                   member_ids=[r.member_id for r in rows])
    return decision
