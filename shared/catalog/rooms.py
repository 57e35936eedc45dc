"""Events of 党代表工作室 (Party congress delegates' liaison rooms): one aggregate per room — the delegates
stationed there, its head, its liaison staff — and one per reception or visit recorded there."""
from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from shared.catalog.base import DomainEvent

CongressLevel = Literal["township", "county", "city", "province", "national"]  # 乡镇/县/市/省/全国党代表
ActivityKind = Literal["reception", "visit"]  # 接待 (people come to the room) / 走访 (delegates go out)


class RoomEstablished(DomainEvent, context="org", aggregate="room"):
    room_id: str
    name: str
    township_id: str | None = None
    address: str | None = None
    established_on: date


class DelegateStationed(DomainEvent, context="org", aggregate="room"):
    """进室: a delegate takes part in the room's work (接待、走访)."""

    room_id: str
    delegate_id: str
    name: str
    congress_level: CongressLevel
    member_id: str | None = Field(None, description="the member, when the delegate is one of the county's")
    stationed_on: date


class DelegateLeft(DomainEvent, context="org", aggregate="room"):
    room_id: str
    delegate_id: str
    left_on: date
    reason: str


class RoomHeadAppointed(DomainEvent, context="org", aggregate="room"):
    """工作室负责人: one of the stationed delegates."""

    room_id: str
    delegate_id: str
    appointed_on: date


class LiaisonStaffAssigned(DomainEvent, context="org", aggregate="room"):
    room_id: str
    staff_id: str
    name: str
    assigned_on: date


class LiaisonStaffReleased(DomainEvent, context="org", aggregate="room"):
    room_id: str
    staff_id: str
    released_on: date


class RoomActivityRecorded(DomainEvent, context="org", aggregate="room_activity"):
    """A reception (接待) or visit (走访): who of the room's delegates took part, how many people, what was raised."""

    activity_id: str
    room_id: str
    kind: ActivityKind
    held_on: date
    delegate_ids: tuple[str, ...]
    people: int = Field(ge=0, description="接待/走访群众人次")
    topics: str
    issues_raised: int = Field(ge=0)
    issues_resolved: int = Field(ge=0)
