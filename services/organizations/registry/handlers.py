"""Handlers of the registry: counties, townships, organizations, members and the member import.
Each checks who may act, loads what the rule needs and lets the executor decide and append; the
subjects they answer are listed once, in HANDLERS at the end."""
from __future__ import annotations

from shared import jobs
from shared.aggregate import Aggregate
from shared.errors import FieldError, forbidden, invalid
from shared.ids import new_id
from shared.messaging import ok
from shared.service import Context
from services.organizations import scope
from services.organizations.clock import today
from services.organizations.registry import queries
from services.organizations.registry.commands import (AddCounty, AddTownship, EstablishOrganization, ImportMembers,
                                                      MemberImport, MemberPlacement, NewCounty, NewMember,
                                                      NewOrganization, NewTownship, RegisterMember, TransferMember)
from services.organizations.registry.domain import County, Member, Organization, Township
from services.organizations.registry.member_import import parse_member_file
from services.organizations.registry.registration import register_members
from services.organizations.registry.streams import announce_county, open_county_stream
from services.organizations.upload import file_content, import_id


async def on_add_county(ctx: Context, cmd: AddCounty) -> dict:
    """开通县（区）: creates the county's event stream, then records CountyAdded as its first event."""
    if ctx.actor.role != "platform_admin":
        raise forbidden("只有平台管理员可以开通县（区） / only a platform admin adds counties")
    if cmd.county_code != ctx.county:
        raise invalid("county_code_mismatch", "county_code", "行政区划代码与请求不一致 / county code mismatch")
    await open_county_stream(ctx.service, cmd.county_code)
    out = await ctx.service.repo.execute(ctx.county, County, cmd.county_code, ctx.meta, lambda c: c.add(cmd))
    await announce_county(ctx.service, cmd.county_code)
    return ok(NewCounty(county_code=cmd.county_code, name=cmd.name), out.seq)


async def on_add_township(ctx: Context, cmd: AddTownship) -> dict:
    """添加乡镇/街道/苏木."""
    ctx.require_county_department()
    township_id = cmd.township_id or new_id()
    county = await _state(ctx, County, ctx.county)
    out = await ctx.service.repo.execute(ctx.county, Township, township_id, ctx.meta, lambda t: t.add(cmd, county))
    return ok(NewTownship(township_id=township_id), out.seq)


async def on_establish_organization(ctx: Context, cmd: EstablishOrganization) -> dict:
    """成立党组织 with the approving upper organization recorded."""
    ctx.require_write()
    scope.check_not_branch_secretary(ctx.actor, "支部书记不能成立党组织 / a branch secretary cannot establish organizations")
    scope.check_in_township(ctx.actor, cmd.township_id,
                            "乡镇操作员只能在本乡镇成立党组织 / a township operator acts only in their township")
    county = await _state(ctx, County, ctx.county)
    parent = await _state(ctx, Organization, cmd.parent_id) if cmd.parent_id else None
    township = await _state(ctx, Township, cmd.township_id) if cmd.township_id else None
    if parent is not None and parent.township_id is not None:  # not under another township's organization
        scope.check_in_township(ctx.actor, parent.township_id)
    org_id, day = cmd.organization_id or new_id(), today()
    out = await ctx.service.repo.execute(ctx.county, Organization, org_id, ctx.meta, lambda o: o.establish(
        cmd, county=county, parent=parent, township=township, today=day))
    return ok(NewOrganization(organization_id=org_id), out.seq)


async def on_register_member(ctx: Context, cmd: RegisterMember) -> dict:
    """党员登记: the member's organizational relationship is held by exactly one branch."""
    ctx.require_write()
    branch = await _state(ctx, Organization, cmd.branch_id)
    scope.check_may_manage_branch(ctx.actor, branch)
    member_id, day = cmd.member_id or new_id(), today()
    out = await ctx.service.repo.execute(ctx.county, Member, member_id, ctx.meta,
                                         lambda m: m.register(cmd, branch=branch, today=day))
    return ok(NewMember(member_id=member_id), out.seq)


async def on_transfer_member(ctx: Context, cmd: TransferMember) -> dict:
    """组织关系转接 within the county (by the sending branch's side)."""
    ctx.require_write()
    member = await _state(ctx, Member, cmd.member_id)
    if member.exists:
        scope.check_may_manage_branch(ctx.actor, await _state(ctx, Organization, member.branch_id))
    to_branch, day = await _state(ctx, Organization, cmd.to_branch_id), today()
    out = await ctx.service.repo.execute(ctx.county, Member, cmd.member_id, ctx.meta,
                                         lambda m: m.transfer(cmd, to_branch=to_branch, today=day))
    return ok(MemberPlacement(member_id=cmd.member_id, branch_id=cmd.to_branch_id), out.seq)


async def on_import_members(ctx: Context, cmd: ImportMembers) -> dict:
    """批量导入党员 (CSV/Excel): every row is checked first; any bad row refuses the whole file."""
    ctx.require_write()
    content = file_content(cmd)
    plan = parse_member_file(cmd.filename or "members.csv", content, await queries.branch_lookup(ctx))
    if not plan.rows and not plan.errors:
        raise invalid("empty_file", "file", "文件中没有党员数据 / the file has no member rows")
    parse_errors = [FieldError(f"row {e.row}: {e.field}", e.message) for e in plan.errors]
    jobs.report(0, len(plan.rows) + len(plan.errors), errors=len(plan.errors))  # checked; now stored
    refs = [(Organization, b) for b in sorted({r.branch_id for r in plan.rows})]
    refs += [(Member, r.member_id) for r in plan.rows]
    the_import, day = import_id(ctx.county, content), today()

    def decide(states: list[Aggregate]):
        return register_members(
            plan.rows, plan.row_numbers, [s for s in states if isinstance(s, Member)],
            {s.id: s for s in states if isinstance(s, Organization)}, import_id=the_import, today=day,
            errors=parse_errors, check_scope=lambda branch: scope.check_may_import_into(ctx.actor, branch))
    out = await ctx.service.repo.execute_many(ctx.county, ctx.meta, refs, decide, chunked=True)
    jobs.report(len(plan.rows), len(plan.rows))
    return ok(out.result, out.seq)


async def _state(ctx: Context, cls: type[Aggregate], aggregate_id: str):
    return (await ctx.service.repo.get(ctx.county, cls, aggregate_id)).state


HANDLERS = (  # (kind, name, handler, reply): subject pb.<county>.<kind>.organizations.<name>
    ("cmd", "add_county", on_add_county, NewCounty),
    ("cmd", "add_township", on_add_township, NewTownship),
    ("cmd", "establish_organization", on_establish_organization, NewOrganization),
    ("cmd", "register_member", on_register_member, NewMember),
    ("cmd", "transfer_member", on_transfer_member, MemberPlacement),
    ("cmd", "import_members", on_import_members, MemberImport),
    ("qry", "list_townships", queries.on_list_townships, queries.TownshipList),
    ("qry", "list_organizations", queries.on_list_organizations, queries.OrganizationList),
    ("qry", "list_members", queries.on_list_members, queries.MemberList),
    ("qry", "get_member", queries.on_get_member, queries.MemberEntry),
)
