"""Events of 两新组织 (non-public enterprises and social organizations): one aggregate per unit.

Every event carries the business date it takes effect on (`business_date`), so coverage can be
folded "as of" any past date independently of when the event was recorded.
"""
from __future__ import annotations

from datetime import date
from typing import ClassVar, Literal

from pydantic import Field

from shared.catalog.base import DomainEvent

UnitType = Literal["private_enterprise", "social_organization"]
OperatingStatus = Literal["operating", "suspended", "deregistered"]
ClosedStatus = Literal["suspended", "deregistered"]  # 停产 / 注销
FoundingMode = Literal["standalone", "joint", "industry", "area", "building"]
InstructorRole = Literal["instructor", "liaison"]  # 党建指导员 / 联络员
MassOrganizationKind = Literal["trade_union", "youth_league", "womens_federation"]  # 工青妇


class EnterpriseEvent(DomainEvent):
    """Base of the events below (registers nothing itself): names the business-date field."""

    date_field: ClassVar[str]
    enterprise_id: str

    @property
    def business_date(self) -> date:
        return getattr(self, self.date_field)


class EnterpriseRegistered(EnterpriseEvent, context="org", aggregate="enterprise"):
    date_field: ClassVar[str] = "registered_on"
    uscc: str = Field(description="统一社会信用代码, 18 characters, validated")
    name: str
    unit_type: UnitType
    township_id: str
    industry: str = Field(description="行业, e.g. a GB/T 4754 section name such as 制造业")
    employees: int = Field(ge=0)
    full_members: int = Field(ge=0)
    probationary_members: int = Field(ge=0)
    operating_status: OperatingStatus
    fixed_premises: bool
    above_scale: bool
    registered_on: date


class EnterpriseHeadcountUpdated(EnterpriseEvent, context="org", aggregate="enterprise"):
    date_field: ClassVar[str] = "effective_on"
    employees: int = Field(ge=0)
    full_members: int = Field(ge=0)
    probationary_members: int = Field(ge=0)
    effective_on: date


class EnterpriseClosed(EnterpriseEvent, context="org", aggregate="enterprise"):
    date_field: ClassVar[str] = "closed_on"
    status: ClosedStatus
    closed_on: date
    reason: str


class EnterpriseReopened(EnterpriseEvent, context="org", aggregate="enterprise"):
    date_field: ClassVar[str] = "reopened_on"
    reopened_on: date
    reason: str


class EnterpriseBranchFounded(EnterpriseEvent, context="org", aggregate="enterprise"):
    """One per covered unit, on that unit's own subject; the organization itself is
    `OrganizationEstablished` on its own subject."""

    date_field: ClassVar[str] = "founded_on"
    organization_id: str
    founding_mode: FoundingMode
    covered_enterprise_ids: tuple[str, ...] = Field(description="all units the organization covers, incl. this one")
    founded_on: date
    approved_by: str
    approved_on: date


class InstructorAssigned(EnterpriseEvent, context="org", aggregate="enterprise"):
    date_field: ClassVar[str] = "assigned_on"
    person_name: str
    role: InstructorRole
    assigned_on: date


class InstructorWithdrawn(EnterpriseEvent, context="org", aggregate="enterprise"):
    date_field: ClassVar[str] = "withdrawn_on"
    withdrawn_on: date
    reason: str | None = None


class MassOrganizationEstablished(EnterpriseEvent, context="org", aggregate="enterprise"):
    date_field: ClassVar[str] = "established_on"
    kind: MassOrganizationKind
    established_on: date
