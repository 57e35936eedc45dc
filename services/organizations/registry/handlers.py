"""Command handlers of the organizations service (the registry): parse, load, decide, append, reply."""
from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
from datetime import date, datetime
from zoneinfo import ZoneInfo

from shared.errors import FieldError, forbidden, invalid
from shared.ids import new_id, stable_id
from shared.messaging import COUNTY_ADDED, ok
from shared.service import Context, Routes
from services.organizations import (handlers_campaigns, handlers_enterprises, queries, queries_campaigns,
                                    queries_coverage)
from services.organizations.commands import (AddCounty, AddTownship, EstablishOrganization, RegisterMember,
                                             TransferMember)
from services.organizations.domain import County, Member, Organization, Township
from services.organizations.importing import parse_member_file
from services.organizations.registration import import_members

CHINA = ZoneInfo("Asia/Shanghai")
routes = Routes("organizations", writes=("org",))


def today() -> date:
    return datetime.now(CHINA).date()


@routes.command("add_county")
async def on_add_county(ctx: Context) -> dict:
    """开通县（区）: creates the county's event stream, then records CountyAdded as its first event."""
    if ctx.actor.role != "platform_admin":
        raise forbidden("只有平台管理员可以开通县（区） / only a platform admin adds counties")
    cmd = AddCounty.model_validate(ctx.data)
    if cmd.county_code != ctx.county:
        raise invalid("county_code_mismatch", "county_code", "行政区划代码与请求不一致 / county code mismatch")
    await ctx.service.store.add_county_stream(cmd.county_code)
    out = await ctx.service.repo.execute(ctx.county, County, cmd.county_code, ctx.meta, lambda c: c.add(cmd))
    await ctx.service.nc.publish(COUNTY_ADDED, cmd.county_code.encode())
    return ok({"county_code": cmd.county_code, "name": cmd.name}, out.seq)


async def _county(ctx: Context) -> County:
    return (await ctx.service.repo.get(ctx.county, County, ctx.county)).state


@routes.command("add_township")
async def on_add_township(ctx: Context) -> dict:
    """添加乡镇/街道/苏木."""
    ctx.require_county_department()
    cmd = AddTownship.model_validate(ctx.data)
    township_id = cmd.township_id or new_id()
    county = await _county(ctx)
    out = await ctx.service.repo.execute(ctx.county, Township, township_id, ctx.meta, lambda t: t.add(cmd, county))
    return ok({"township_id": township_id}, out.seq)


@routes.command("establish_organization")
async def on_establish_organization(ctx: Context) -> dict:
    """成立党组织 with the approving upper organization recorded."""
    ctx.require_write()
    cmd = EstablishOrganization.model_validate(ctx.data)
    if ctx.actor.role == "township_operator" and cmd.township_id != ctx.actor.township:
        raise forbidden("乡镇操作员只能在本乡镇成立党组织 / a township operator acts only in their township")
    if ctx.actor.role == "branch_secretary":
        raise forbidden("支部书记不能成立党组织 / a branch secretary cannot establish organizations")
    org_id = cmd.organization_id or new_id()
    county, parent, township = await asyncio.gather(
        _county(ctx),
        ctx.service.repo.get(ctx.county, Organization, cmd.parent_id) if cmd.parent_id else _none(),
        ctx.service.repo.get(ctx.county, Township, cmd.township_id) if cmd.township_id else _none())
    day = today()
    out = await ctx.service.repo.execute(ctx.county, Organization, org_id, ctx.meta, lambda o: o.establish(
        cmd, county=county, parent=parent.state if parent else None,
        township=township.state if township else None, today=day))
    return ok({"organization_id": org_id}, out.seq)


async def _none():
    return None


async def check_actor_may_manage_branch(ctx: Context, branch: Organization) -> None:
    if ctx.actor.role == "branch_secretary" and ctx.actor.branch != branch.id:
        raise forbidden("支部书记只能管理本支部党员 / a branch secretary manages only their own branch")
    if ctx.actor.role == "township_operator" and branch.township_id != ctx.actor.township:
        raise forbidden("乡镇操作员只能管理本乡镇党员 / a township operator manages only their township")


@routes.command("register_member")
async def on_register_member(ctx: Context) -> dict:
    """党员登记: the member's organizational relationship is held by exactly one branch."""
    ctx.require_write()
    cmd = RegisterMember.model_validate(ctx.data)
    branch = (await ctx.service.repo.get(ctx.county, Organization, cmd.branch_id)).state
    await check_actor_may_manage_branch(ctx, branch)
    member_id, day = cmd.member_id or new_id(), today()
    out = await ctx.service.repo.execute(ctx.county, Member, member_id, ctx.meta,
                                 lambda m: m.register(cmd, branch=branch, today=day))
    return ok({"member_id": member_id}, out.seq)


@routes.command("transfer_member")
async def on_transfer_member(ctx: Context) -> dict:
    """组织关系转接 within the county."""
    ctx.require_write()
    member_id = str(ctx.data.get("member_id", ""))
    cmd = TransferMember.model_validate({k: v for k, v in ctx.data.items() if k != "member_id"})
    member = (await ctx.service.repo.get(ctx.county, Member, member_id)).state
    if member.exists:
        await check_actor_may_manage_branch(ctx, (await ctx.service.repo.get(ctx.county, Organization, member.branch_id)).state)
    to_branch = (await ctx.service.repo.get(ctx.county, Organization, cmd.to_branch_id)).state
    day = today()
    out = await ctx.service.repo.execute(ctx.county, Member, member_id, ctx.meta,
                                 lambda m: m.transfer(cmd, to_branch=to_branch, today=day))
    return ok({"member_id": member_id, "branch_id": cmd.to_branch_id}, out.seq)


@routes.command("import_members")
async def on_import_members(ctx: Context) -> dict:
    """批量导入党员 (CSV/Excel): every row is checked first; any bad row refuses the whole file."""
    ctx.require_write()
    filename = str(ctx.data.get("filename") or "members.csv")
    try:
        content = base64.b64decode(ctx.data.get("content_b64") or "", validate=True)
    except (binascii.Error, ValueError):
        raise invalid("invalid_file", "file", "文件内容无法解码 / file content is not valid base64") from None
    if not content:
        raise invalid("empty_file", "file", "文件为空 / the file is empty")
    branches = await queries.branch_lookup(ctx)
    plan = parse_member_file(filename, content, branches)
    if not plan.rows and not plan.errors:
        raise invalid("empty_file", "file", "文件中没有党员数据 / the file has no member rows")
    import_id = stable_id("import", ctx.county, hashlib.sha256(content).hexdigest())
    parse_errors = [FieldError(f"row {e.row}: {e.field}", e.message) for e in plan.errors]
    result, seq = await import_members(ctx, plan.rows, plan.row_numbers, import_id, today(), parse_errors)
    return ok(result, seq)


queries.register(routes)
handlers_enterprises.register(routes, today)
queries_coverage.register(routes, today)
handlers_campaigns.register(routes, today)
queries_campaigns.register(routes, today)
