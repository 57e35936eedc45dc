"""Events of the organizations context: counties, townships, organizations, members."""
from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from shared.catalog.base import DomainEvent

OrganizationType = Literal["primary_committee", "general_branch", "branch", "joint_branch", "party_group"]
HostUnitType = Literal[
    "village", "community", "government_organ", "public_institution",
    "state_enterprise", "private_enterprise", "social_organization", "school",
]
MembershipStatus = Literal["full", "probationary"]
Gender = Literal["male", "female"]


class CountyAdded(DomainEvent, context="org", aggregate="county"):
    county_code: str = Field(description="6-digit 行政区划代码")
    name: str


class TownshipAdded(DomainEvent, context="org", aggregate="township"):
    township_id: str
    name: str
    code: str | None = None


class OrganizationEstablished(DomainEvent, context="org", aggregate="organization"):
    organization_id: str
    name: str
    organization_type: OrganizationType
    host_unit_type: HostUnitType
    parent_id: str | None = None
    township_id: str | None = None
    approved_by: str
    approved_on: date


class MemberRegistered(DomainEvent, context="org", aggregate="member"):
    member_id: str
    name: str
    gender: Gender
    birth_date: date | None = None
    membership_status: MembershipStatus
    joined_on: date
    branch_id: str
    import_id: str | None = Field(None, description="Set when the member came from a CSV/Excel import")


class MemberTransferred(DomainEvent, context="org", aggregate="member"):
    member_id: str
    from_branch_id: str
    to_branch_id: str
    transferred_on: date
    reason: str | None = None
