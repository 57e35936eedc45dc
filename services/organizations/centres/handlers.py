"""Handlers of 党群服务中心: registering centres and stations (one by one or from a spreadsheet), their
facilities, inspections against the county's standards, 挂牌, upgrade plans and progress, and the
standards themselves. Each checks who may act, loads what the rule needs and lets the executor decide
and append; the subjects are listed once, in HANDLERS at the end."""
from __future__ import annotations

from collections.abc import Callable

from shared.catalog.base import DomainEvent
from shared.ids import new_id
from shared.messaging import ok
from shared.service import Context
from services.organizations import scope
from services.organizations.centres import exchange, figures, queries
from services.organizations.centres.commands import (
    AdoptCentreStandards, CentreChange, CentreImport, CloseCentre, ImportCentres, InspectCentre, InspectionResult, NewCentre,
    PlanCentreUpgrade, PlaqueCentre, RegisterCentre, ReportUpgradeProgress, StandardsEffective,
    UpdateCentreFacilities,
)
from services.organizations.centres.domain import Centre, CentreStandardsBook
from services.organizations.clock import today
from services.organizations.contracts import Workbook
from services.organizations.registry.domain import Organization, Township

NOT_SECRETARIES = "支部书记不能管理党群服务中心台账 / branch secretaries do not manage the centre registry"
OUTSIDE = "乡镇操作员只能管理本乡镇的党群服务中心 / a township operator acts only on their township's centres"
INSPECTORS = "只有县委组织部可以核查、挂牌 / only the county department inspects and plaques centres"


def check_centre_scope(ctx: Context, township_id: str | None) -> None:
    """The registry is the county's and the townships' (each its own centres; county-level ones the county's)."""
    scope.check_registry_scope(ctx.actor, township_id, OUTSIDE, NOT_SECRETARIES)


async def on_register_centre(ctx: Context, cmd: RegisterCentre) -> dict:
    """登记党群服务中心（站）: a village or community centre names the organization of the place it serves."""
    ctx.require_write()
    check_centre_scope(ctx, cmd.township_id)
    centre_id, day = cmd.centre_id or new_id(), today()
    township = (await ctx.service.repo.get(ctx.county, Township, cmd.township_id)).state if cmd.township_id else None
    served = (await ctx.service.repo.get(ctx.county, Organization, cmd.organization_id)).state \
        if cmd.organization_id else None
    out = await ctx.service.repo.execute(ctx.county, Centre, centre_id, ctx.meta, lambda c: c.register(
        cmd, township_exists=township is not None and township.exists, served=served, today=day))
    return ok(NewCentre(centre_id=centre_id), out.seq)


async def on_update_centre_facilities(ctx: Context, cmd: UpdateCentreFacilities) -> dict:
    """更新面积、功能区、标识、服务窗口."""
    day = today()
    return await _on_centre(ctx, cmd.centre_id, lambda c: c.update_facilities(cmd, today=day))


async def on_plan_centre_upgrade(ctx: Context, cmd: PlanCentreUpgrade) -> dict:
    """年度提升改造（优化）计划."""
    day = today()
    return await _on_centre(ctx, cmd.centre_id, lambda c: c.plan_upgrade(cmd, today=day))


async def on_report_upgrade_progress(ctx: Context, cmd: ReportUpgradeProgress) -> dict:
    """提升改造进度."""
    day = today()
    return await _on_centre(ctx, cmd.centre_id, lambda c: c.report_progress(cmd, today=day))


async def on_plaque_centre(ctx: Context, cmd: PlaqueCentre) -> dict:
    """挂牌: the county department, after an inspection that found the centre to standard."""
    ctx.require_county_department(INSPECTORS)
    day = today()
    return await _on_centre(ctx, cmd.centre_id, lambda c: c.plaque(cmd, today=day))


async def on_close_centre(ctx: Context, cmd: CloseCentre) -> dict:
    """撤销（关闭）: the centre leaves the counts and coverage from that date."""
    day = today()
    return await _on_centre(ctx, cmd.centre_id, lambda c: c.close(cmd, today=day))


async def on_inspect_centre(ctx: Context, cmd: InspectCentre) -> dict:
    """达标核查 against the standards of the centre's level in force on the inspection date."""
    ctx.require_county_department(INSPECTORS)
    standards, day = (await figures.standards_book(ctx)).in_force(cmd.inspected_on), today()
    out = await ctx.service.repo.execute(
        ctx.county, Centre, cmd.centre_id, ctx.meta, lambda c: c.inspect(cmd, standards=standards, today=day),
        result=lambda c, _: InspectionResult(centre_id=c.id, passed=c.to_standard, met=list(c.inspection.met),
                                             missing=list(c.inspection.missing)))
    return ok(out.result, out.seq)


async def _on_centre(ctx: Context, centre_id: str, decide: Callable[[Centre], list[DomainEvent]]) -> dict:
    ctx.require_write()
    centre = (await ctx.service.repo.get(ctx.county, Centre, centre_id)).state
    if centre.exists:
        check_centre_scope(ctx, centre.township_id)
    out = await ctx.service.repo.execute(ctx.county, Centre, centre_id, ctx.meta, decide)
    return ok(CentreChange(centre_id=centre_id), out.seq)


async def on_adopt_centre_standards(ctx: Context, table: AdoptCentreStandards) -> dict:
    """采用党群服务中心建设标准: every level, effective from a date."""
    ctx.require_county_department("只有县委组织部可以设定建设标准 / only the county department sets the standards")
    out = await ctx.service.repo.execute(ctx.county, CentreStandardsBook, ctx.county, ctx.meta,
                                         lambda b: b.adopt(table))
    return ok(StandardsEffective(effective_from=table.effective_from), out.seq)


async def on_import_centres(ctx: Context, cmd: ImportCentres) -> dict:
    """批量导入党群服务中心 (CSV/Excel): every row checked first; any bad row refuses the whole file."""
    return ok(*await exchange.import_centres(ctx, cmd, check_centre_scope))


HANDLERS = (  # (kind, name, handler, reply): subject pb.<county>.<kind>.organizations.<name>
    ("cmd", "register_centre", on_register_centre, NewCentre),
    ("cmd", "update_centre_facilities", on_update_centre_facilities, CentreChange),
    ("cmd", "inspect_centre", on_inspect_centre, InspectionResult),
    ("cmd", "plaque_centre", on_plaque_centre, CentreChange),
    ("cmd", "plan_centre_upgrade", on_plan_centre_upgrade, CentreChange),
    ("cmd", "report_upgrade_progress", on_report_upgrade_progress, CentreChange),
    ("cmd", "close_centre", on_close_centre, CentreChange),
    ("cmd", "adopt_centre_standards", on_adopt_centre_standards, StandardsEffective),
    ("cmd", "import_centres", on_import_centres, CentreImport),
    ("qry", "centre_standards", queries.on_centre_standards, queries.StandardsVersions),
    ("qry", "centre_coverage", queries.on_centre_coverage, queries.CentreCoverage),
    ("qry", "list_centres", queries.on_list_centres, queries.CentreList),
    ("qry", "list_centre_upgrades", queries.on_list_centre_upgrades, queries.UpgradeList),
    ("qry", "centres_export", exchange.on_centres_export, Workbook),
)
