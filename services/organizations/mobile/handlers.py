"""Handlers of mobile members (流动党员) and service points; the subjects are listed once, in HANDLERS.

A member's mobile record is kept by their (sending) branch: its secretary, the township's operator or
the county record it. The service point registry is the county's."""
from __future__ import annotations

from collections.abc import Callable

from shared.aggregate import Aggregate
from shared.catalog.base import DomainEvent
from shared.errors import FieldError, invalid
from shared.ids import new_id
from shared.messaging import ok
from shared.service import Context
from services.organizations import scope
from services.organizations.clock import today
from services.organizations.contracts import Workbook
from services.organizations.mobile import ledger, queries
from services.organizations.mobile.commands import (CloseServicePoint, ImportMobileMembers, ImportServicePoints,
                                                    MobileImport, MobileStatus,
                                                    NewServicePoint, RecordMemberAway, RecordMemberReturn,
                                                    RegisterMobileMember, RegisterServicePoint, ServicePointImport)
from services.organizations.mobile.domain import MobileRecord, ServicePoint
from services.organizations.mobile.member_sheet import parse_mobile_file, record_mobile
from services.organizations.mobile.point_import import parse_point_file, register_points
from services.organizations.registry.domain import Member, Organization
from services.organizations.registry.queries import branch_lookup, member_lookup
from services.organizations.rules.queries import rule_book, rules_in_force
from services.organizations.upload import file_content


async def on_record_member_away(ctx: Context, cmd: RecordMemberAway) -> dict:
    """外出登记."""
    member, day = await _member_in_scope(ctx, cmd.member_id), today()
    return await _record(ctx, cmd.member_id, "away", lambda r: r.record_away(cmd, member=member, today=day))


async def on_register_mobile_member(ctx: Context, cmd: RegisterMobileMember) -> dict:
    """登记流动党员 (双重管理: the sending branch keeps the relationship)."""
    member, day = await _member_in_scope(ctx, cmd.member_id), today()
    point = await _state(ctx, ServicePoint, cmd.service_point_id) if cmd.service_point_id else None
    rules = (await rules_in_force(ctx, cmd.registered_on)).mobile
    return await _record(ctx, cmd.member_id, "mobile",
                         lambda r: r.register(cmd, member=member, point=point, rules=rules, today=day))


async def on_record_member_return(ctx: Context, cmd: RecordMemberReturn) -> dict:
    """流动党员返回."""
    await _member_in_scope(ctx, cmd.member_id)
    day = today()
    return await _record(ctx, cmd.member_id, "returned", lambda r: r.record_return(cmd, today=day))


async def on_register_service_point(ctx: Context, cmd: RegisterServicePoint) -> dict:
    """登记流动党员服务站点 (the county's registry)."""
    ctx.require_county_department("只有县委组织部可以登记服务站点 / only the county department registers service points")
    point_id, day = cmd.service_point_id or new_id(), today()
    out = await ctx.service.repo.execute(ctx.county, ServicePoint, point_id, ctx.meta,
                                         lambda p: p.register(cmd, today=day))
    return ok(NewServicePoint(service_point_id=point_id), out.seq)


async def on_close_service_point(ctx: Context, cmd: CloseServicePoint) -> dict:
    """撤销服务站点."""
    ctx.require_county_department("只有县委组织部可以撤销服务站点 / only the county department closes service points")
    day = today()
    out = await ctx.service.repo.execute(ctx.county, ServicePoint, cmd.service_point_id, ctx.meta,
                                         lambda p: p.close(cmd, today=day))
    return ok(NewServicePoint(service_point_id=cmd.service_point_id), out.seq)


async def on_import_service_points(ctx: Context, cmd: ImportServicePoints) -> dict:
    """导入服务站点 (CSV/Excel): every row is checked first; any bad row refuses the whole file."""
    ctx.require_county_department("只有县委组织部可以登记服务站点 / only the county department registers service points")
    rows, numbers, errors = parse_point_file(cmd.filename or "points.csv", file_content(cmd))
    if not rows and not errors:
        raise invalid("empty_file", "file", "文件中没有服务站点 / the file has no service points")
    parse_errors = [FieldError(f"row {e.row}: {e.field}", e.message) for e in errors]
    day = today()
    out = await ctx.service.repo.execute_many(
        ctx.county, ctx.meta, [(ServicePoint, r.service_point_id or "") for r in rows],
        lambda states: register_points(rows, numbers, states, today=day, errors=parse_errors), chunked=True)
    return ok(out.result, out.seq)


async def on_import_mobile_members(ctx: Context, cmd: ImportMobileMembers) -> dict:
    """导入流动党员台账: every row checked first; a member of a branch outside the caller's scope refuses the
    file (403), any other bad row too (422, each row and column named)."""
    ctx.require_write()
    registry = await ledger.service_points(ctx, today())
    points = {**{p["name"]: p["service_point_id"] for p in registry},
              **{p["service_point_id"]: p["service_point_id"] for p in registry}}
    rows, errors = parse_mobile_file(cmd.filename or "mobile.csv", file_content(cmd), await branch_lookup(ctx),
                                     await member_lookup(ctx), points)
    if not rows and not errors:
        raise invalid("empty_file", "file", "文件中没有流动党员 / the file has no members")
    ids = [r.away.member_id for r in rows]
    members = {s.state.id: s.state for s in await ctx.service.repo.load_many(ctx.county, [(Member, i) for i in ids])}
    for branch_id in sorted({m.branch_id for m in members.values() if m.branch_id}):
        scope.check_may_manage_branch(ctx.actor, await _state(ctx, Organization, branch_id))
    named = sorted({r.registration.service_point_id for r in rows if r.registration and r.registration.service_point_id})
    loaded = await ctx.service.repo.load_many(ctx.county, [(ServicePoint, p) for p in named])
    book, day = await rule_book(ctx), today()
    parse_errors = [FieldError(f"row {e.row}: {e.field}", e.message) for e in errors]
    out = await ctx.service.repo.execute_many(
        ctx.county, ctx.meta, [(MobileRecord, i) for i in ids],
        lambda states: record_mobile(rows, {s.id: s for s in states}, members, {p.state.id: p.state for p in loaded},
                                     book, today=day, errors=parse_errors), chunked=True)
    return ok(out.result, out.seq)


async def _member_in_scope(ctx: Context, member_id: str) -> Member:
    ctx.require_write()
    member = await _state(ctx, Member, member_id)
    if member.exists:
        scope.check_may_manage_branch(ctx.actor, await _state(ctx, Organization, member.branch_id))
    return member


async def _record(ctx: Context, member_id: str, status: str,
                  decide: Callable[[MobileRecord], list[DomainEvent]]) -> dict:
    out = await ctx.service.repo.execute(ctx.county, MobileRecord, member_id, ctx.meta, decide)
    return ok(MobileStatus(member_id=member_id, status=status), out.seq)


async def _state(ctx: Context, cls: type[Aggregate], aggregate_id: str | None):
    assert aggregate_id is not None
    return (await ctx.service.repo.get(ctx.county, cls, aggregate_id)).state


HANDLERS = (  # (kind, name, handler, reply): subject pb.<county>.<kind>.organizations.<name>
    ("cmd", "record_member_away", on_record_member_away, MobileStatus),
    ("cmd", "register_mobile_member", on_register_mobile_member, MobileStatus),
    ("cmd", "record_member_return", on_record_member_return, MobileStatus),
    ("cmd", "register_service_point", on_register_service_point, NewServicePoint),
    ("cmd", "close_service_point", on_close_service_point, NewServicePoint),
    ("cmd", "import_service_points", on_import_service_points, ServicePointImport),
    ("cmd", "import_mobile_members", on_import_mobile_members, MobileImport),
    ("qry", "list_mobile_members", queries.on_list_mobile_members, queries.MobileMemberList),
    ("qry", "mobile_figures", queries.on_mobile_figures, queries.MobileFigures),
    ("qry", "list_service_points", queries.on_list_service_points, queries.ServicePointList),
    ("qry", "mobile_members_export", queries.on_mobile_members_export, Workbook),
    ("qry", "service_points_export", queries.on_service_points_export, Workbook),
)
