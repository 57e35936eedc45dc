"""Bulk member registration (import): all rows checked by the domain first, then appended in atomic
batches of ≤1,000 events. Member ids are derived from the row content, so re-running an import that
was interrupted between batches registers only the rows still missing — never a member twice."""
from __future__ import annotations

from datetime import date

from shared.envelope import seal
from shared.errors import DomainError, FieldError, forbidden
from shared.service import Context
from services.organizations.commands import RegisterMember
from services.organizations.domain import Member, Organization



async def import_members(ctx: Context, rows: list[RegisterMember], row_numbers: list[int], import_id: str,
                         today: date, errors: list[FieldError]) -> tuple[dict, int]:
    """`errors` holds the spreadsheet's own problems; the domain's are added, then all are reported."""
    repo = ctx.service.repo
    branches: dict[str, Organization] = {}
    for branch_id in {r.branch_id for r in rows}:
        branches[branch_id] = (await repo.get(ctx.county, Organization, branch_id)).state
        _check_scope(ctx, branches[branch_id])
    errors = list(errors)
    pending: list[tuple[str, dict, int]] = []
    already = 0
    for number, cmd in zip(row_numbers, rows):
        loaded = await repo.get(ctx.county, Member, cmd.member_id)
        member = loaded.state
        if member.exists and member.import_id == import_id:
            already += 1  # stored by an earlier, interrupted run of this same file
            continue
        try:
            events = member.register(cmd, branch=branches[cmd.branch_id], today=today, import_id=import_id)
        except DomainError as exc:
            errors += [FieldError(f"row {number}: {e.field}", e.message) for e in exc.errors] or \
                [FieldError(f"row {number}", exc.detail)]
            continue
        env = seal(ctx.county, cmd.member_id, events[0], ctx.meta, loaded.last_hash)
        pending.append((repo.subject(ctx.county, Member, cmd.member_id), env, loaded.version))
    if errors:
        errors.sort(key=lambda e: int(e.field.split()[1].rstrip(":")) if e.field.startswith("row ") else 0)
        raise DomainError("import_rejected", f"导入未执行：{len(errors)} 处错误 / import refused: {len(errors)} "
                          "problem(s), nothing was imported", 422, errors)
    seq = await repo.append_chunked(ctx.county, pending)
    member_ids = [r.member_id for r in rows]
    return {"import_id": import_id, "imported": len(pending), "already_imported": already,
            "member_ids": member_ids}, seq


def _check_scope(ctx: Context, branch: Organization) -> None:
    if ctx.actor.role == "branch_secretary" and ctx.actor.branch != branch.id:
        raise forbidden("支部书记只能导入本支部党员 / a branch secretary imports only their own branch")
    if ctx.actor.role == "township_operator" and branch.exists and branch.township_id != ctx.actor.township:
        raise forbidden("乡镇操作员只能导入本乡镇党员 / a township operator imports only their township")
