"""Rules of 党代表工作室: a `Room` with its stationed delegates, head and liaison staff, and each
`RoomActivity` (a reception or visit) recorded there. Pure: the caller loads the township and the room.

A delegate's id in a room derives from the room and the name, and a staff member's likewise, so a
spreadsheet imported again finds the same people."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from shared.aggregate import Aggregate
from shared.catalog.base import DomainEvent
from shared.catalog.rooms import (DelegateLeft, DelegateStationed, LiaisonStaffAssigned, LiaisonStaffReleased,
                                  RoomActivityRecorded, RoomEstablished, RoomHeadAppointed)
from shared.errors import conflict, invalid, not_found
from shared.ids import stable_id

from services.organizations.registry.domain import check_not_future
from services.organizations.rooms.commands import (AppointRoomHead, AssignLiaisonStaff, EstablishRoom,
                                                   RecordRoomActivity, ReleaseLiaisonStaff, StationDelegate,
                                                   WithdrawDelegate)


def delegate_id_of(room_id: str, name: str) -> str:
    return stable_id("delegate", room_id, name)


def staff_id_of(room_id: str, name: str) -> str:
    return stable_id("liaison-staff", room_id, name)


@dataclass
class Person:
    name: str
    since: date
    congress_level: str | None = None


class Room(Aggregate):
    context, aggregate_type = "org", "room"

    def __init__(self, aggregate_id: str):
        super().__init__(aggregate_id)
        self.name = ""
        self.township_id: str | None = None
        self.established_on: date | None = None
        self.delegates: dict[str, Person] = {}
        self.staff: dict[str, Person] = {}
        self.head: str | None = None

    def apply(self, event: DomainEvent) -> None:
        if isinstance(event, RoomEstablished):
            self.mark_exists()
            self.name, self.township_id, self.established_on = event.name, event.township_id, event.established_on
        elif isinstance(event, DelegateStationed):
            self.delegates[event.delegate_id] = Person(event.name, event.stationed_on, event.congress_level)
        elif isinstance(event, DelegateLeft):
            self.delegates.pop(event.delegate_id, None)
            self.head = None if self.head == event.delegate_id else self.head
        elif isinstance(event, RoomHeadAppointed):
            self.head = event.delegate_id
        elif isinstance(event, LiaisonStaffAssigned):
            self.staff[event.staff_id] = Person(event.name, event.assigned_on)
        elif isinstance(event, LiaisonStaffReleased):
            self.staff.pop(event.staff_id, None)

    def establish(self, cmd: EstablishRoom, *, township_exists: bool, today: date) -> list[DomainEvent]:
        if self.exists:
            raise conflict("room_exists", f"党代表工作室“{self.name}”已设立 / the room already exists")
        if cmd.township_id is not None and not township_exists:
            raise not_found("township_not_found", "乡镇不存在于本县 / township not found in this county", "township_id")
        check_not_future(cmd.established_on, today, "established_on", "设立日期", "date")
        return [RoomEstablished(room_id=self.id, name=cmd.name, township_id=cmd.township_id, address=cmd.address,
                                established_on=cmd.established_on)]

    def station(self, cmd: StationDelegate, *, today: date) -> list[DomainEvent]:
        self._check_dated(cmd.stationed_on, today, "stationed_on")
        delegate_id = delegate_id_of(self.id, cmd.name)
        if delegate_id in self.delegates:
            raise conflict("delegate_stationed", f"{cmd.name} 已在“{self.name}”进室 / already stationed here")
        return [DelegateStationed(room_id=self.id, delegate_id=delegate_id, name=cmd.name,
                                  congress_level=cmd.congress_level, member_id=cmd.member_id,
                                  stationed_on=cmd.stationed_on)]

    def withdraw(self, cmd: WithdrawDelegate, *, today: date) -> list[DomainEvent]:
        self._check_dated(cmd.left_on, today, "left_on")
        check_on_or_after(cmd.left_on, self._delegate(cmd.delegate_id).since, "left_on")
        return [DelegateLeft(room_id=self.id, delegate_id=cmd.delegate_id, left_on=cmd.left_on, reason=cmd.reason)]

    def appoint_head(self, cmd: AppointRoomHead, *, today: date) -> list[DomainEvent]:
        self._check_dated(cmd.appointed_on, today, "appointed_on")
        check_on_or_after(cmd.appointed_on, self._delegate(cmd.delegate_id).since, "appointed_on")
        if self.head == cmd.delegate_id:
            return []  # already the head: a repeated request records nothing
        return [RoomHeadAppointed(room_id=self.id, delegate_id=cmd.delegate_id, appointed_on=cmd.appointed_on)]

    def assign_staff(self, cmd: AssignLiaisonStaff, *, today: date) -> list[DomainEvent]:
        self._check_dated(cmd.assigned_on, today, "assigned_on")
        staff_id = staff_id_of(self.id, cmd.name)
        if staff_id in self.staff:
            raise conflict("staff_assigned", f"{cmd.name} 已是“{self.name}”联络员 / already liaison staff here")
        return [LiaisonStaffAssigned(room_id=self.id, staff_id=staff_id, name=cmd.name, assigned_on=cmd.assigned_on)]

    def release_staff(self, cmd: ReleaseLiaisonStaff, *, today: date) -> list[DomainEvent]:
        self._check_dated(cmd.released_on, today, "released_on")
        person = self.staff.get(cmd.staff_id)
        if person is None:
            raise not_found("staff_not_found", "该联络员不在本工作室 / no such liaison staff here", "staff_id")
        check_on_or_after(cmd.released_on, person.since, "released_on")
        return [LiaisonStaffReleased(room_id=self.id, staff_id=cmd.staff_id, released_on=cmd.released_on)]

    def _delegate(self, delegate_id: str) -> Person:
        person = self.delegates.get(delegate_id)
        if person is None:
            raise not_found("delegate_not_found", "该党代表未在本工作室进室 / the delegate is not stationed here",
                            "delegate_id")
        return person

    def _check_dated(self, day: date, today: date, field: str) -> None:
        check_room_exists(self)
        check_not_future(day, today, field, "日期", "date")
        check_on_or_after(day, self.established_on, field)


class RoomActivity(Aggregate):
    context, aggregate_type = "org", "room_activity"

    def apply(self, event: DomainEvent) -> None:
        if isinstance(event, RoomActivityRecorded):
            self.mark_exists()

    def record(self, cmd: RecordRoomActivity, *, room: Room, today: date) -> list[DomainEvent]:
        if self.exists:
            return []  # the same activity id again: recorded once
        room._check_dated(cmd.held_on, today, "held_on")
        strangers = [d for d in cmd.delegate_ids if d not in room.delegates]
        if strangers:
            raise invalid("delegate_not_stationed", "delegate_ids", f"不是本工作室进室党代表：{strangers} / not "
                                                                   "delegates of this room")
        return [RoomActivityRecorded(activity_id=self.id, room_id=room.id, kind=cmd.kind, held_on=cmd.held_on,
                                     delegate_ids=tuple(cmd.delegate_ids), people=cmd.people, topics=cmd.topics,
                                     issues_raised=cmd.issues_raised, issues_resolved=cmd.issues_resolved)]


def check_room_exists(room: Room) -> None:
    if not room.exists:
        raise not_found("room_not_found", f"党代表工作室 {room.id} 不存在于本县 / room {room.id} not found")


def check_on_or_after(day: date, earliest: date | None, field: str) -> None:
    if earliest is not None and day < earliest:
        raise invalid(f"{field}_too_early", field, f"日期早于 {earliest} / date is before {earliest}")
