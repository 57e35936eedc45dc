"""Events of mobile members (流动党员) and their service points (流动党员服务站点). A member's mobile
record is one aggregate per member (`org.mobile.<member_id>`): away recorded, registered as mobile
(双重管理: the sending branch keeps the relationship; the receiving organization or service point
organizes activities), returned. Service points are a county registry (`org.service_point.<id>`)."""
from __future__ import annotations

from datetime import date

from pydantic import Field

from shared.catalog.base import DomainEvent


class MemberAwayRecorded(DomainEvent, context="org", aggregate="mobile"):
    """外出登记: the branch records that a member has gone away (not yet registered as mobile)."""

    member_id: str
    away_since: date
    destination: str
    branch_id: str = Field(description="the sending branch when recorded")


class MobileMemberRegistered(DomainEvent, context="org", aggregate="mobile"):
    """登记为流动党员 (away six months or more without transferring the relationship)."""

    member_id: str
    away_since: date
    destination: str
    contact: str
    receiving_organization: str | None = None
    service_point_id: str | None = None
    registered_on: date
    branch_id: str = Field(description="the sending branch, which keeps the relationship")


class MobileMemberReturned(DomainEvent, context="org", aggregate="mobile"):
    """返回: the member is back (the record closes; a later departure starts a new one)."""

    member_id: str
    returned_on: date


class ServicePointRegistered(DomainEvent, context="org", aggregate="service_point"):
    service_point_id: str
    name: str
    location: str = Field(description="所在地 / where it is, e.g. 广东省深圳市")
    host: str = Field(description="依托单位 / the host, e.g. 驻深圳流动党员党委, a chamber of commerce")
    contact: str
    opened_on: date


class ServicePointClosed(DomainEvent, context="org", aggregate="service_point"):
    service_point_id: str
    closed_on: date
    reason: str
