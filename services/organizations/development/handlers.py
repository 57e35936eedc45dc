"""Handlers of member development (发展党员). Each checks who may act, loads what the rule needs and
lets the executor decide and append; the subjects are listed once, in HANDLERS at the end.

Who records what: the branch's secretary, its township's operator or the county department record the
pipeline (application, activist, candidate); admission, 转正, extension and cancellation carry the
upper organization's approval, so they are recorded by the township or the county."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date

from shared.aggregate import Aggregate, Decision
from shared.catalog.base import DomainEvent
from shared.errors import FieldError, invalid
from shared.ids import new_id
from shared.messaging import ok
from shared.service import Context
from services.organizations import scope
from services.organizations.clock import today
from services.organizations.contracts import Workbook
from services.organizations.development import queries
from services.organizations.development.applicant_sheet import parse_applicant_file, record_applicants
from services.organizations.development.commands import (
    AdmitProbationaryMember, CancelProbation, ConfirmMembership, DesignateActivist, DesignateCandidate,
    ApplicantImport, DevelopmentStep, DiscontinueDevelopment, ExtendProbation, ImportApplicants, NewApplicant, ProbationDecision, ReceiveApplication)
from services.organizations.development.domain import Applicant, check_stage
from services.organizations.registry.domain import Member, Organization
from services.organizations.registry.queries import branch_lookup
from services.organizations.rules.queries import rule_book, rules_in_force
from services.organizations.upload import file_content


async def on_receive_application(ctx: Context, cmd: ReceiveApplication) -> dict:
    """接收入党申请."""
    ctx.require_write()
    branch = await _state(ctx, Organization, cmd.branch_id)
    scope.check_may_manage_branch(ctx.actor, branch)
    rules, day = (await rules_in_force(ctx, cmd.applied_on)).development, today()
    applicant_id = cmd.applicant_id or new_id()
    out = await ctx.service.repo.execute(ctx.county, Applicant, applicant_id, ctx.meta,
                                         lambda a: a.receive(cmd, branch=branch, rules=rules, today=day))
    return ok(NewApplicant(applicant_id=applicant_id), out.seq)


async def on_designate_activist(ctx: Context, cmd: DesignateActivist) -> dict:
    """确定入党积极分子 with the training contacts the rule table asks for."""
    rules, day = (await rules_in_force(ctx, cmd.designated_on)).development, today()
    return await _pipeline_step(ctx, cmd.applicant_id, "activist",
                                lambda a: a.designate_activist(cmd, rules=rules, today=day))


async def on_designate_candidate(ctx: Context, cmd: DesignateCandidate) -> dict:
    """确定发展对象 after the rule table's minimum time as an activist."""
    rules, day = (await rules_in_force(ctx, cmd.designated_on)).development, today()
    return await _pipeline_step(ctx, cmd.applicant_id, "candidate",
                                lambda a: a.designate_candidate(cmd, rules=rules, today=day))


async def on_discontinue_development(ctx: Context, cmd: DiscontinueDevelopment) -> dict:
    """终止培养 with a reason."""
    day = today()
    return await _pipeline_step(ctx, cmd.applicant_id, "discontinued", lambda a: a.discontinue(cmd, today=day))


async def on_admit_probationary_member(ctx: Context, cmd: AdmitProbationaryMember) -> dict:
    """接收预备党员: the applicant's events and the member's registration in one atomic batch."""
    _check_upper_approval(ctx)
    applicant = await _state(ctx, Applicant, cmd.applicant_id)
    if applicant.exists:  # scope first: a refusal says nothing about another township's applicant
        scope.check_may_manage_branch(ctx.actor, await _state(ctx, Organization, applicant.branch_id))
    check_stage(applicant, "candidate")
    branch = await _state(ctx, Organization, applicant.branch_id)
    rules, day = (await rules_in_force(ctx, cmd.branch_meeting_on)).development, today()

    def decide(states: list[Aggregate]) -> Decision:
        applicant, member = states
        return applicant.admit(cmd, member=member, branch=branch, rules=rules, today=day)
    out = await ctx.service.repo.execute_many(ctx.county, ctx.meta, [(Applicant, cmd.applicant_id),
                                                                     (Member, cmd.applicant_id)], decide)
    return ok(out.result, out.seq)


async def on_confirm_membership(ctx: Context, cmd: ConfirmMembership) -> dict:
    """预备党员转正; the registry's full/probationary flag follows in the same batch."""
    return await _probation_decision(ctx, cmd, lambda a, m, rules, day: a.confirm(cmd, member=m, rules=rules,
                                                                                  today=day))


async def on_extend_probation(ctx: Context, cmd: ExtendProbation) -> dict:
    """延长预备期 (once, 6–12 months by the rule table)."""
    return await _probation_decision(ctx, cmd, lambda a, m, rules, day: a.extend(cmd, member=m, rules=rules,
                                                                                 today=day))


async def on_cancel_probation(ctx: Context, cmd: CancelProbation) -> dict:
    """取消预备党员资格; the member leaves the registry's counts in the same batch."""
    return await _probation_decision(ctx, cmd, lambda a, m, rules, day: a.cancel(cmd, member=m, rules=rules,
                                                                                 today=day))


async def _pipeline_step(ctx: Context, applicant_id: str, stage: str,
                         decide: Callable[[Applicant], list[DomainEvent]]) -> dict:
    ctx.require_write()
    applicant = await _state(ctx, Applicant, applicant_id)
    if applicant.exists:
        scope.check_may_manage_branch(ctx.actor, await _state(ctx, Organization, applicant.branch_id))
    out = await ctx.service.repo.execute(ctx.county, Applicant, applicant_id, ctx.meta, decide)
    return ok(DevelopmentStep(applicant_id=applicant_id, stage=stage), out.seq)


async def _probation_decision(ctx: Context, cmd: ProbationDecision, decide: Callable) -> dict:
    """A decision on a probation (the applicant subject of the member's id, and the member)."""
    _check_upper_approval(ctx)
    member = await _state(ctx, Member, cmd.member_id)
    if member.exists:
        scope.check_may_manage_branch(ctx.actor, await _state(ctx, Organization, member.branch_id))
    joined: date = member.joined_on or cmd.branch_meeting_on
    rules, day = (await rules_in_force(ctx, joined)).development, today()
    out = await ctx.service.repo.execute_many(
        ctx.county, ctx.meta, [(Applicant, cmd.member_id), (Member, cmd.member_id)],
        lambda states: decide(states[0], states[1], rules, day))
    return ok(out.result, out.seq)


async def on_import_applicants(ctx: Context, cmd: ImportApplicants) -> dict:
    """导入发展党员台账: every row checked first; a row of a branch outside the caller's scope refuses the file
    (403), any other bad row too (422, each row and column named)."""
    ctx.require_write()
    rows, errors = parse_applicant_file(ctx.county, cmd.filename or "applicants.csv", file_content(cmd),
                                        await branch_lookup(ctx))
    if not rows and not errors:
        raise invalid("empty_file", "file", "文件中没有申请人 / the file has no applicants")
    branches = {b: await _state(ctx, Organization, b) for b in sorted({r.application.branch_id for r in rows})}
    for branch in branches.values():
        scope.check_may_manage_branch(ctx.actor, branch)
    book, day = await rule_book(ctx), today()
    parse_errors = [FieldError(f"row {e.row}: {e.field}", e.message) for e in errors]
    out = await ctx.service.repo.execute_many(
        ctx.county, ctx.meta, [(Applicant, r.application.applicant_id or "") for r in rows],
        lambda states: record_applicants(rows, {s.id: s for s in states}, branches, book, today=day,
                                         errors=parse_errors), chunked=True)
    return ok(out.result, out.seq)


def _check_upper_approval(ctx: Context) -> None:
    ctx.require_write()
    scope.check_not_branch_secretary(ctx.actor, "接收预备党员、转正、延长或取消预备期须经上级党组织审批，由乡镇或县委组织部"
                                                "登记 / the township or the county records decisions that need the "
                                                "upper organization's approval")


async def _state(ctx: Context, cls: type[Aggregate], aggregate_id: str | None):
    assert aggregate_id is not None  # an existing applicant or member always names its branch
    return (await ctx.service.repo.get(ctx.county, cls, aggregate_id)).state


HANDLERS = (  # (kind, name, handler, reply): subject pb.<county>.<kind>.organizations.<name>
    ("cmd", "receive_application", on_receive_application, NewApplicant),
    ("cmd", "designate_activist", on_designate_activist, DevelopmentStep),
    ("cmd", "designate_candidate", on_designate_candidate, DevelopmentStep),
    ("cmd", "discontinue_development", on_discontinue_development, DevelopmentStep),
    ("cmd", "admit_probationary_member", on_admit_probationary_member, DevelopmentStep),
    ("cmd", "confirm_membership", on_confirm_membership, DevelopmentStep),
    ("cmd", "extend_probation", on_extend_probation, DevelopmentStep),
    ("cmd", "cancel_probation", on_cancel_probation, DevelopmentStep),
    ("cmd", "import_applicants", on_import_applicants, ApplicantImport),
    ("qry", "list_applicants", queries.on_list_applicants, queries.ApplicantList),
    ("qry", "get_applicant", queries.on_get_applicant, queries.ApplicantEntry),
    ("qry", "development_pipeline", queries.on_development_pipeline, queries.Pipeline),
    ("qry", "probation_due", queries.on_probation_due, queries.ProbationDue),
    ("qry", "branches_without_candidates", queries.on_branches_without_candidates, queries.CandidateScreening),
    ("qry", "applicants_export", queries.on_applicants_export, Workbook),
)
