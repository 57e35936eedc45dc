"""Handlers of 党代表工作室: rooms, delegates, heads, liaison staff, receptions and visits, and the import.
Rooms are the county's and the townships' (each its own); branch secretaries do not manage them. The
subjects are listed once, in HANDLERS at the end."""
from __future__ import annotations

from collections.abc import Callable

from shared.catalog.base import DomainEvent
from shared.ids import new_id
from shared.messaging import ok
from shared.service import Context
from services.organizations import scope
from services.organizations.clock import today
from services.organizations.contracts import Workbook
from services.organizations.registry.domain import Township
from services.organizations.rooms import queries
from services.organizations.rooms.commands import (ActivityRecorded, AppointRoomHead, AssignLiaisonStaff,
                                                   DelegateChange, EstablishRoom, ImportRooms, RecordRoomActivity,
                                                   ReleaseLiaisonStaff, RoomChange, RoomImport, StationDelegate,
                                                   WithdrawDelegate)
from services.organizations.rooms.domain import Room, RoomActivity, delegate_id_of, staff_id_of
from services.organizations.rooms.room_sheet import import_rooms, room_id_of

OUTSIDE = "乡镇操作员只能管理本乡镇的党代表工作室 / a township operator acts only on their township's rooms"
NOT_SECRETARIES = "支部书记不能管理党代表工作室 / branch secretaries do not manage rooms"


def check_room_scope(ctx: Context, township_id: str | None) -> None:
    ctx.require_write()
    scope.check_registry_scope(ctx.actor, township_id, OUTSIDE, NOT_SECRETARIES)


async def on_establish_room(ctx: Context, cmd: EstablishRoom) -> dict:
    """设立党代表工作室."""
    check_room_scope(ctx, cmd.township_id)
    room_id, day = cmd.room_id or room_id_of(ctx.county, cmd.name), today()
    township = (await ctx.service.repo.get(ctx.county, Township, cmd.township_id)).state if cmd.township_id else None
    out = await ctx.service.repo.execute(ctx.county, Room, room_id, ctx.meta, lambda r: r.establish(
        cmd, township_exists=township is not None and township.exists, today=day))
    return ok(RoomChange(room_id=room_id), out.seq)


async def _on_room(ctx: Context, room_id: str, person_id: str, decide: Callable[[Room], list[DomainEvent]]) -> dict:
    ctx.require_write()
    room = (await ctx.service.repo.get(ctx.county, Room, room_id)).state
    if room.exists:
        check_room_scope(ctx, room.township_id)
    out = await ctx.service.repo.execute(ctx.county, Room, room_id, ctx.meta, decide)
    return ok(DelegateChange(room_id=room_id, person_id=person_id), out.seq)


async def on_station_delegate(ctx: Context, cmd: StationDelegate) -> dict:
    """党代表进室."""
    day = today()
    return await _on_room(ctx, cmd.room_id, delegate_id_of(cmd.room_id, cmd.name), lambda r: r.station(cmd, today=day))


async def on_withdraw_delegate(ctx: Context, cmd: WithdrawDelegate) -> dict:
    """党代表出室."""
    day = today()
    return await _on_room(ctx, cmd.room_id, cmd.delegate_id, lambda r: r.withdraw(cmd, today=day))


async def on_appoint_room_head(ctx: Context, cmd: AppointRoomHead) -> dict:
    """工作室负责人."""
    day = today()
    return await _on_room(ctx, cmd.room_id, cmd.delegate_id, lambda r: r.appoint_head(cmd, today=day))


async def on_assign_liaison_staff(ctx: Context, cmd: AssignLiaisonStaff) -> dict:
    """配备联络员."""
    day = today()
    return await _on_room(ctx, cmd.room_id, staff_id_of(cmd.room_id, cmd.name),
                          lambda r: r.assign_staff(cmd, today=day))


async def on_release_liaison_staff(ctx: Context, cmd: ReleaseLiaisonStaff) -> dict:
    """联络员离任."""
    day = today()
    return await _on_room(ctx, cmd.room_id, cmd.staff_id, lambda r: r.release_staff(cmd, today=day))


async def on_record_room_activity(ctx: Context, cmd: RecordRoomActivity) -> dict:
    """接待或走访, by delegates stationed in the room; the same activity_id again records once."""
    ctx.require_write()
    room = (await ctx.service.repo.get(ctx.county, Room, cmd.room_id)).state
    if room.exists:
        check_room_scope(ctx, room.township_id)
    activity_id, day = cmd.activity_id or new_id(), today()
    out = await ctx.service.repo.execute(ctx.county, RoomActivity, activity_id, ctx.meta,
                                         lambda a: a.record(cmd, room=room, today=day))
    return ok(ActivityRecorded(activity_id=activity_id), out.seq)


async def on_import_rooms(ctx: Context, cmd: ImportRooms) -> dict:
    """批量导入党代表工作室及其党代表、负责人、联络员 (CSV/Excel); any bad row refuses the whole file."""
    return ok(*await import_rooms(ctx, cmd))


HANDLERS = (  # (kind, name, handler, reply): subject pb.<county>.<kind>.organizations.<name>
    ("cmd", "establish_room", on_establish_room, RoomChange),
    ("cmd", "station_delegate", on_station_delegate, DelegateChange),
    ("cmd", "withdraw_delegate", on_withdraw_delegate, DelegateChange),
    ("cmd", "appoint_room_head", on_appoint_room_head, DelegateChange),
    ("cmd", "assign_liaison_staff", on_assign_liaison_staff, DelegateChange),
    ("cmd", "release_liaison_staff", on_release_liaison_staff, DelegateChange),
    ("cmd", "record_room_activity", on_record_room_activity, ActivityRecorded),
    ("cmd", "import_rooms", on_import_rooms, RoomImport),
    ("qry", "list_rooms", queries.on_list_rooms, queries.RoomList),
    ("qry", "room_figures", queries.on_room_figures, queries.RoomFigures),
    ("qry", "list_room_activities", queries.on_list_room_activities, queries.ActivityList),
    ("qry", "rooms_export", queries.on_rooms_export, Workbook),
)
