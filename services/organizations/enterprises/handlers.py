"""Handlers of 两新组织: registering units (one by one or from a spreadsheet), headcounts, closing and
reopening, instructors, 工青妇, founding their Party organizations. Each checks who may act, loads
what the rule needs and lets the executor decide and append; the subjects are listed once, in
HANDLERS at the end."""
from __future__ import annotations

from collections.abc import Callable

from shared import jobs
from shared.aggregate import Aggregate
from shared.catalog.base import DomainEvent
from shared.errors import FieldError, forbidden, invalid
from shared.ids import new_id
from shared.messaging import ok
from shared.service import Context
from services.organizations import scope
from services.organizations.clock import today
from services.organizations.contracts import Workbook
from services.organizations.enterprises import queries
from services.organizations.enterprises.commands import (
    AssignInstructor, BranchFounded, CloseEnterprise, EnterpriseChange, EnterpriseImport, FoundEnterpriseBranch,
    ImportEnterprises, NewEnterprise, RecordMassOrganization, RegisterEnterprise, ReopenEnterprise, UpdateHeadcount,
    WithdrawInstructor,
)
from services.organizations.enterprises.domain import Enterprise
from services.organizations.enterprises.enterprise_import import parse_enterprise_file
from services.organizations.enterprises.founding import found_organization
from services.organizations.enterprises.read_model import uscc_holders
from services.organizations.enterprises.registration import register_units, unit_id
from services.organizations.enterprises.uscc import validate_uscc
from services.organizations.registry.domain import Organization, Township
from services.organizations.registry.queries import township_lookup
from services.organizations.rules.queries import rules_in_force
from services.organizations.upload import file_content, import_id

NOT_SECRETARIES = "支部书记不能管理两新组织台账 / branch secretaries do not manage the unit registry"
OUTSIDE = "乡镇操作员只能管理本乡镇的两新组织 / a township operator acts only in their township"


def check_unit_scope(ctx: Context, township_id: str | None) -> None:
    """The unit registry is the county's and the townships' (each its own units)."""
    scope.check_registry_scope(ctx.actor, township_id, OUTSIDE, NOT_SECRETARIES)


async def on_register_enterprise(ctx: Context, cmd: RegisterEnterprise) -> dict:
    """登记两新组织 with its unified social credit code (GB 32100, check character verified)."""
    ctx.require_write()
    check_unit_scope(ctx, cmd.township_id)
    uscc = validate_uscc(cmd.uscc)
    enterprise_id = cmd.enterprise_id or unit_id(ctx.county, uscc)
    holder = (await uscc_holders(ctx, [uscc])).get(uscc)
    township = (await ctx.service.repo.get(ctx.county, Township, cmd.township_id)).state
    day = today()
    out = await ctx.service.repo.execute(ctx.county, Enterprise, enterprise_id, ctx.meta, lambda e: e.register(
        cmd, uscc_taken=holder not in (None, enterprise_id), township_exists=township.exists, today=day))
    return ok(NewEnterprise(enterprise_id=enterprise_id, uscc=uscc), out.seq)


async def on_update_headcount(ctx: Context, cmd: UpdateHeadcount) -> dict:
    """更新从业人员与党员人数."""
    day = today()
    return await _on_unit(ctx, cmd.enterprise_id, lambda e: e.update_headcount(cmd, today=day))


async def on_close_enterprise(ctx: Context, cmd: CloseEnterprise) -> dict:
    """停产/注销."""
    day = today()
    return await _on_unit(ctx, cmd.enterprise_id, lambda e: e.close(cmd, today=day))


async def on_reopen_enterprise(ctx: Context, cmd: ReopenEnterprise) -> dict:
    """恢复经营."""
    day = today()
    return await _on_unit(ctx, cmd.enterprise_id, lambda e: e.reopen(cmd, today=day))


async def on_assign_instructor(ctx: Context, cmd: AssignInstructor) -> dict:
    """选派党建指导员/联络员."""
    day = today()
    return await _on_unit(ctx, cmd.enterprise_id, lambda e: e.assign_instructor(cmd, today=day))


async def on_withdraw_instructor(ctx: Context, cmd: WithdrawInstructor) -> dict:
    """撤回党建指导员/联络员."""
    day = today()
    return await _on_unit(ctx, cmd.enterprise_id, lambda e: e.withdraw_instructor(cmd, today=day))


async def on_record_mass_organization(ctx: Context, cmd: RecordMassOrganization) -> dict:
    """建立工会/共青团/妇联."""
    day = today()
    return await _on_unit(ctx, cmd.enterprise_id, lambda e: e.record_mass_organization(cmd, today=day))


async def _on_unit(ctx: Context, enterprise_id: str, decide: Callable[[Enterprise], list[DomainEvent]]) -> dict:
    ctx.require_write()
    unit = (await ctx.service.repo.get(ctx.county, Enterprise, enterprise_id)).state
    if unit.exists:
        check_unit_scope(ctx, unit.township_id)
    out = await ctx.service.repo.execute(ctx.county, Enterprise, enterprise_id, ctx.meta, decide)
    return ok(EnterpriseChange(enterprise_id=enterprise_id), out.seq)


async def on_found_enterprise_branch(ctx: Context, cmd: FoundEnterpriseBranch) -> dict:
    """组建党组织 for one unit (单独组建) or several (联合/行业/区域/楼宇): the new organization and
    every covered unit's EnterpriseBranchFounded are appended in one atomic batch."""
    ctx.require_write()
    organization_id, day = cmd.organization_id or new_id(), today()
    refs = [(Enterprise, eid) for eid in cmd.enterprise_ids] + [(Organization, organization_id)]
    for unit in await ctx.service.repo.load_many(ctx.county, refs[:-1]):
        if unit.state.exists:
            check_unit_scope(ctx, unit.state.township_id)
    table = await rules_in_force(ctx, cmd.founded_on)

    def decide(states: list[Aggregate]):
        units = [s for s in states if isinstance(s, Enterprise)]
        organization = next(s for s in states if isinstance(s, Organization))
        return found_organization(cmd, units, organization, table, day)
    out = await ctx.service.repo.execute_many(ctx.county, ctx.meta, refs, decide)
    return ok(out.result, out.seq)


async def on_import_enterprises(ctx: Context, cmd: ImportEnterprises) -> dict:
    """批量导入两新组织 (CSV/Excel): every row checked first; any bad row refuses the whole file."""
    ctx.require_write()
    if ctx.actor.role not in {"county_admin", "platform_admin", "township_operator"}:
        raise forbidden("无权导入两新组织 / not allowed to import units")
    content = file_content(cmd)
    plan = parse_enterprise_file(cmd.filename or "units.csv", content, await township_lookup(ctx))
    for row in plan.rows:  # outside the actor's township: refused as a whole (403), like a member import
        check_unit_scope(ctx, row.township_id)
    errors = [FieldError(f"row {e.row}: {e.field}", e.message) for e in plan.errors]
    if not plan.rows and not errors:
        raise invalid("empty_file", "file", "文件中没有单位数据 / the file has no unit rows")
    jobs.report(0, len(plan.rows) + len(plan.errors), errors=len(plan.errors))  # checked; now stored
    holders = await uscc_holders(ctx)  # the county's few thousand codes: one read
    refs = [(Township, t) for t in sorted({r.township_id for r in plan.rows})]
    refs += [(Enterprise, unit_id(ctx.county, r.uscc)) for r in plan.rows]
    the_import, day = import_id(ctx.county, content), today()

    def decide(states: list[Aggregate]):
        return register_units(
            plan.rows, plan.row_numbers, {s.id: s for s in states if isinstance(s, Enterprise)},
            {s.id: s for s in states if isinstance(s, Township)}, holders, county=ctx.county, import_id=the_import,
            today=day, errors=errors, check_scope=lambda township_id: check_unit_scope(ctx, township_id))
    out = await ctx.service.repo.execute_many(ctx.county, ctx.meta, refs, decide, chunked=True)
    jobs.report(len(plan.rows), len(plan.rows))
    return ok(out.result, out.seq)


HANDLERS = (  # (kind, name, handler, reply): subject pb.<county>.<kind>.organizations.<name>
    ("cmd", "register_enterprise", on_register_enterprise, NewEnterprise),
    ("cmd", "update_headcount", on_update_headcount, EnterpriseChange),
    ("cmd", "close_enterprise", on_close_enterprise, EnterpriseChange),
    ("cmd", "reopen_enterprise", on_reopen_enterprise, EnterpriseChange),
    ("cmd", "assign_instructor", on_assign_instructor, EnterpriseChange),
    ("cmd", "withdraw_instructor", on_withdraw_instructor, EnterpriseChange),
    ("cmd", "record_mass_organization", on_record_mass_organization, EnterpriseChange),
    ("cmd", "found_enterprise_branch", on_found_enterprise_branch, BranchFounded),
    ("cmd", "import_enterprises", on_import_enterprises, EnterpriseImport),
    ("qry", "coverage", queries.on_coverage, queries.CoverageFigures),
    ("qry", "coverage_series", queries.on_coverage_series, queries.CoverageSeries),
    ("qry", "coverage_export", queries.on_coverage_export, Workbook),
    ("qry", "list_enterprises", queries.on_list_enterprises, queries.EnterpriseList),
)
