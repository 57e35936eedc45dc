"""Commands of an organization's life after founding (shape only; rules in domain.py and
elections.py) and their replies. Each names the organization it acts on (the gateway takes it from
the request path)."""
from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field, field_validator

from services.organizations.contracts import TOKEN_PATTERN, Command, blank_to_none
from shared.catalog.lifecycle import CommitteeSeat
from shared.catalog.organizations import OrganizationType


class _OnOrganization(Command):
    organization_id: str = Field(pattern=TOKEN_PATTERN, description="党组织编号 / the organization acted on")


class _Approved(_OnOrganization):
    approved_by: str = Field(min_length=1, max_length=40, description="上级党组织批准人/机关 / who approved")
    approved_on: date = Field(description="批准日期 / date of approval")


class RenameOrganization(_Approved):
    """党组织更名 / Rename an organization."""

    new_name: str = Field(min_length=1, max_length=80, description="新名称 / new name, e.g. 侨港镇侨港村党支部")


class UpgradeOrganization(_Approved):
    """升格 / Upgrade: 党支部 → 党总支 → 基层党委 (only upward)."""

    to_type: OrganizationType = Field(description="升格后类型 / general_branch 党总支 or primary_committee 基层党委")


class TransferOrganization(_Approved):
    """整建制转移 / Move the whole organization under another parent (and township)."""

    to_parent_id: str | None = Field(None, pattern=TOKEN_PATTERN,
                                     description="新上级党组织编号（空 = 县委直属） / new parent; empty = under the county")
    to_township_id: str | None = Field(None, pattern=TOKEN_PATTERN, description="新所属乡镇编号 / new township id")

    _blank = field_validator("to_parent_id", "to_township_id", mode="before")(blank_to_none)


class MergeOrganization(_Approved):
    """合并 / Merge this organization into another; this one is dissolved by the merge."""

    into_organization_id: str = Field(pattern=TOKEN_PATTERN, description="并入的党组织编号 / absorbing organization id")


class DissolveOrganization(_Approved):
    """撤销 / Dissolve an organization."""

    reason: str = Field(min_length=1, max_length=200, description="撤销原因 / reason, e.g. 村庄整体搬迁")


class RestoreOrganization(_Approved):
    """恢复 / Restore a dissolved organization (a merged one stays merged)."""

    reason: str = Field(min_length=1, max_length=200, description="恢复原因 / reason")


class ElectCommittee(_OnOrganization):
    """换届选举 / Record an election: a committee, or a secretary only (书记，必要时副书记)."""

    elected_on: date = Field(description="选举日期 / election date")
    committee: tuple[CommitteeSeat, ...] = Field(min_length=1, max_length=15,
                                                 description="当选人员及职务 / seats, exactly one secretary")
    approved_by: str | None = Field(None, max_length=40, description="选举结果批准机关（可选） / who approved the result")
    approved_on: date | None = Field(None, description="批准日期（可选） / approval date")

    _blank = field_validator("approved_by", mode="before")(blank_to_none)


class PostponeElection(_Approved):
    """延期（或提前）换届，须经批准 / Move the election due date, with approval."""

    new_due_on: date = Field(description="新的换届期限 / new due date")
    reason: str = Field(min_length=1, max_length=200, description="原因 / reason")


# -- replies --------------------------------------------------------------------------------------
class OrganizationChange(BaseModel):
    organization_id: str = Field(description="党组织编号 / the organization changed")


class MergeResult(BaseModel):
    organization_id: str = Field(description="被合并的党组织 / the absorbed organization (now merged)")
    into_organization_id: str = Field(description="并入的党组织 / the absorbing organization")
    members_moved: int = Field(description="随之转接的党员 / members whose affiliation moved with it")


class ElectionResult(BaseModel):
    organization_id: str = Field(description="党组织编号 / the organization")
    term_ends_on: date | None = Field(description="任期届满 / end of the new term")
    secretary_only: bool | None = Field(description="只设书记（不设委员会） / a secretary only, no committee")
