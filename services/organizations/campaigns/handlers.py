"""Handlers of classification (分类定级) and rectification of weak organizations (整顿软弱涣散). Each
checks who may act, loads what the rule needs and lets the executor decide and append; the subjects
are listed once, in HANDLERS at the end."""
from __future__ import annotations

from collections.abc import Callable

from shared.aggregate import Aggregate
from shared.auth import COUNTY_DEPARTMENT
from shared.catalog.base import DomainEvent
from shared.errors import forbidden
from shared.messaging import ok
from shared.service import Context
from services.organizations import scope
from services.organizations.campaigns import ledger, queries
from services.organizations.campaigns.commands import (
    AcceptRectification, AcceptRectificationByTownship, AssignFirstSecretary, AssignLiaisonLeader, CaseOpened,
    CaseStep, ClassifyOrganization, ExtendRectification, FlagOrganizationWeak, PlanRectification, ReplaceSecretary,
    ReportRectificationProgress, YearClassified,
)
from services.organizations.campaigns.domain import Classification
from services.organizations.campaigns.rectification import RectificationCase, case_id
from services.organizations.clock import today
from services.organizations.contracts import Workbook
from services.organizations.registry.domain import Organization
from services.organizations.rules.queries import rules_in_force

COUNTY = COUNTY_DEPARTMENT
COUNTY_OR_TOWNSHIP = COUNTY_DEPARTMENT | {"township_operator"}


async def on_classify_organization(ctx: Context, cmd: ClassifyOrganization) -> dict:
    """分类定级: 先进/一般/后进 against 五个好 (or 双强六好 for enterprise organizations)."""
    ctx.require_county_department()
    organization, day = await _state(ctx, Organization, cmd.organization_id), today()
    out = await ctx.service.repo.execute(ctx.county, Classification, cmd.organization_id, ctx.meta,
                                         lambda c: c.classify(cmd, organization=organization, today=day))
    return ok(YearClassified(organization_id=cmd.organization_id, year=cmd.year), out.seq)


async def on_flag_organization_weak(ctx: Context, cmd: FlagOrganizationWeak) -> dict:
    """列入软弱涣散 (county committee decision) with reasons from the rule table."""
    ctx.require_county_department()
    organization = await _state(ctx, Organization, cmd.organization_id)
    previous_id = await ledger.latest_case_id(ctx, cmd.organization_id, exclude_campaign=cmd.campaign)
    previous = await _state(ctx, RectificationCase, previous_id) if previous_id else None
    day = today()
    table = await rules_in_force(ctx, day)
    out = await ctx.service.repo.execute(
        ctx.county, RectificationCase, case_id(cmd.campaign, cmd.organization_id), ctx.meta,
        lambda c: c.flag(cmd, organization=organization, rules=table, today=day, previous=previous),
        result=lambda case, _: CaseOpened(case_id=case.id, relapse_of=case.relapse_of))
    return ok(out.result, out.seq)


async def on_plan_rectification(ctx: Context, cmd: PlanRectification) -> dict:
    """一村一策 整顿方案."""
    day = today()
    return await _step(ctx, cmd.case_id, COUNTY_OR_TOWNSHIP, lambda c: c.plan_rectification(cmd, today=day))


async def on_replace_secretary(ctx: Context, cmd: ReplaceSecretary) -> dict:
    """调整书记."""
    day = today()
    return await _step(ctx, cmd.case_id, COUNTY, lambda c: c.replace_secretary(cmd, today=day))


async def on_assign_first_secretary(ctx: Context, cmd: AssignFirstSecretary) -> dict:
    """选派第一书记."""
    day = today()
    return await _step(ctx, cmd.case_id, COUNTY, lambda c: c.assign_first_secretary(cmd, today=day))


async def on_assign_liaison_leader(ctx: Context, cmd: AssignLiaisonLeader) -> dict:
    """县级领导包联."""
    day = today()
    return await _step(ctx, cmd.case_id, COUNTY, lambda c: c.assign_liaison_leader(cmd, today=day))


async def on_report_rectification_progress(ctx: Context, cmd: ReportRectificationProgress) -> dict:
    """整顿进展."""
    day = today()
    return await _step(ctx, cmd.case_id, COUNTY_OR_TOWNSHIP, lambda c: c.report_progress(cmd, today=day))


async def on_accept_rectification_by_township(ctx: Context, cmd: AcceptRectificationByTownship) -> dict:
    """乡镇验收."""
    day = today()
    return await _step(ctx, cmd.case_id, COUNTY_OR_TOWNSHIP, lambda c: c.accept_by_township(cmd, today=day))


async def on_accept_rectification(ctx: Context, cmd: AcceptRectification) -> dict:
    """县级验收销号 (BranchRectified); the follow-up year comes from the rule table in force."""
    day = today()
    table = await rules_in_force(ctx, day)
    return await _step(ctx, cmd.case_id, COUNTY, lambda c: c.accept(cmd, rules=table, today=day))


async def on_extend_rectification(ctx: Context, cmd: ExtendRectification) -> dict:
    """延期整顿."""
    day = today()
    return await _step(ctx, cmd.case_id, COUNTY, lambda c: c.extend(cmd, today=day))


async def _step(ctx: Context, the_case: str, who: frozenset[str],
                decide: Callable[[RectificationCase], list[DomainEvent]]) -> dict:
    """One step of a case, by a role allowed to record it; a township operator only for the
    organizations of their township."""
    ctx.require_write()
    if ctx.actor.role not in who:
        raise forbidden("无权执行此整顿环节 / this step is not yours to record")
    case = await _state(ctx, RectificationCase, the_case)
    if case.exists:
        organization = await _state(ctx, Organization, case.organization_id)
        scope.check_in_township(ctx.actor, organization.township_id,
                                "乡镇操作员只能处理本乡镇案例 / a township operator acts only in their township")
    out = await ctx.service.repo.execute(ctx.county, RectificationCase, the_case, ctx.meta, decide)
    return ok(CaseStep(case_id=the_case), out.seq)


async def _state(ctx: Context, cls: type[Aggregate], aggregate_id: str):
    return (await ctx.service.repo.get(ctx.county, cls, aggregate_id)).state


HANDLERS = (  # (kind, name, handler, reply): subject pb.<county>.<kind>.organizations.<name>
    ("cmd", "classify_organization", on_classify_organization, YearClassified),
    ("cmd", "flag_organization_weak", on_flag_organization_weak, CaseOpened),
    ("cmd", "plan_rectification", on_plan_rectification, CaseStep),
    ("cmd", "replace_secretary", on_replace_secretary, CaseStep),
    ("cmd", "assign_first_secretary", on_assign_first_secretary, CaseStep),
    ("cmd", "assign_liaison_leader", on_assign_liaison_leader, CaseStep),
    ("cmd", "report_rectification_progress", on_report_rectification_progress, CaseStep),
    ("cmd", "accept_rectification_by_township", on_accept_rectification_by_township, CaseStep),
    ("cmd", "accept_rectification", on_accept_rectification, CaseStep),
    ("cmd", "extend_rectification", on_extend_rectification, CaseStep),
    ("qry", "list_rectification_cases", queries.on_list_rectification_cases, queries.CaseList),
    ("qry", "rectification_case", queries.on_rectification_case, queries.CaseDetail),
    ("qry", "rectification_summary", queries.on_rectification_summary, queries.RectificationSummary),
    ("qry", "rectification_ledger_export", queries.on_rectification_ledger_export, Workbook),
    ("qry", "classification_history", queries.on_classification_history, queries.ClassificationHistory),
)
