"""Events of an organization's life after its founding: rename, upgrade, transfer, merge, dissolve,
restore, committee elections (换届) and their postponement.

They all sit on the organization's own subject (aggregate "organization") so one fold gives its
current shape. Every change of the organization itself carries who approved it and when
(上级党组织批准); warnings from "generally" (一般) setting rules are recorded in the event, so an
auditor later sees what the staff were told when they went ahead.
"""
from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.catalog.base import DomainEvent
from shared.catalog.organizations import OrganizationType

CommitteeRole = Literal["secretary", "deputy_secretary", "organization_officer", "publicity_officer",
                        "discipline_officer", "committee_member"]


class CommitteeSeat(BaseModel):
    """One seat of an elected committee. One person may hold two seats (书记兼组织委员)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    role: CommitteeRole = Field(description="书记 secretary / 副书记 deputy_secretary / 组织委员 organization_officer / "
                                            "宣传委员 publicity_officer / 纪检委员 discipline_officer / 委员 committee_member")
    name: str = Field(min_length=1, max_length=40, description="姓名 / name, e.g. 黄海燕")
    member_id: str | None = Field(None, description="党员编号（可选） / member id when registered here")


class _Approved(DomainEvent):
    approved_by: str = Field(description="上级党组织批准人/机关 / who approved")
    approved_on: date = Field(description="批准日期 / date of approval")


class OrganizationRenamed(_Approved, context="org", aggregate="organization"):
    organization_id: str
    new_name: str
    previous_name: str | None = None


class OrganizationUpgraded(_Approved, context="org", aggregate="organization"):
    """升格: branch → general branch → primary committee."""

    organization_id: str
    from_type: OrganizationType
    to_type: OrganizationType
    member_count: int | None = None
    warnings: tuple[str, ...] = ()


class OrganizationTransferred(_Approved, context="org", aggregate="organization"):
    """整建制转移: the whole organization moves under another parent (None = directly under the county)."""

    organization_id: str
    from_parent_id: str | None
    to_parent_id: str | None
    from_township_id: str | None = None
    to_township_id: str | None


class OrganizationMerged(_Approved, context="org", aggregate="organization"):
    """The absorbed organization; the merge dissolves it. Its members move by MemberTransferred."""

    organization_id: str
    into_organization_id: str


class OrganizationDissolved(_Approved, context="org", aggregate="organization"):
    organization_id: str
    reason: str


class OrganizationRestored(_Approved, context="org", aggregate="organization"):
    organization_id: str
    reason: str


class CommitteeElected(DomainEvent, context="org", aggregate="organization"):
    """换届选举 result. secretary_only: fewer full members than a committee needs (书记, 必要时副书记)."""

    organization_id: str
    elected_on: date
    term_years: int
    term_ends_on: date
    committee: tuple[CommitteeSeat, ...]
    secretary_only: bool
    warnings: tuple[str, ...] = ()
    approved_by: str | None = Field(None, description="选举结果批准机关（可选） / who approved the result")
    approved_on: date | None = None


class ElectionPostponed(_Approved, context="org", aggregate="organization"):
    """A delayed (or advanced) election; normally within max_election_delay_months of the term end."""

    organization_id: str
    new_due_on: date
    previous_due_on: date | None = None
    reason: str
