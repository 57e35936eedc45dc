"""Commands of classification (分类定级) and rectification (整顿) and their replies — shape only;
rules in domain.py and rectification.py. A rectification step names its case (the gateway takes it
from the request path): case id = f"{campaign}.{organization_id}" (neither token contains a dot,
so the id splits cleanly).
"""
from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field, field_validator

from services.organizations.contracts import TOKEN_PATTERN, Command, blank_to_none
from shared.catalog.campaigns import Grade

CAMPAIGN_PATTERN = r"^[A-Za-z0-9_-]{1,32}$"
CASE_PATTERN = r"^[A-Za-z0-9_-]{1,32}\.[A-Za-z0-9_-]{1,64}$"


class _OnCase(Command):
    case_id: str = Field(pattern=CASE_PATTERN, description="整顿案例编号 批次.党组织编号 / case id campaign.organization_id")


class ClassifyOrganization(Command):
    """分类定级 / Classify an organization for a year; the item set follows its host unit."""

    organization_id: str = Field(pattern=TOKEN_PATTERN, description="党组织编号 / the organization classified")
    year: int = Field(ge=2000, le=2100, description="定级年度 / year, e.g. 2025")
    grade: Grade = Field(description="先进 advanced / 一般 average / 后进 lagging")
    items: dict[str, bool] = Field(description="各项是否达标，键为项目编码 / item code → met, e.g. {\"good_leadership\": true}")
    note: str | None = Field(None, max_length=500, description="说明；同一年度重新定级（更正）时必填 / note; "
                                                               "required when correcting a year")
    classified_on: date = Field(description="定级日期 / date of the decision")

    _blank = field_validator("note", mode="before")(blank_to_none)


class FlagOrganizationWeak(Command):
    """确定软弱涣散党组织 / List an organization as weak or lax in a campaign (县委研究确定)."""

    organization_id: str = Field(pattern=TOKEN_PATTERN, description="党组织编号 / organization id")
    campaign: str = Field(pattern=CAMPAIGN_PATTERN, description="整顿批次 / campaign token, e.g. 2026")
    reasons: tuple[str, ...] = Field(description="软弱涣散情形编码（规则表） / weak_reason codes from the rule table")
    screened_on: date = Field(description="乡镇排查日期 / township screening date")
    decided_on: date = Field(description="县委研究确定日期 / county committee decision date")


class PlanRectification(_OnCase):
    """一村一策 / The organization's rectification plan."""

    plan: str = Field(min_length=1, max_length=4000, description="整顿方案 / plan text")
    measures: tuple[str, ...] = Field((), max_length=30, description="整顿措施 / measures")
    due_on: date = Field(description="整顿期限 / due date")
    liaison_leader: str | None = Field(None, max_length=40, description="包联县级领导（可选） / county leader contact")

    _blank = field_validator("liaison_leader", mode="before")(blank_to_none)


class ReplaceSecretary(_OnCase):
    """调整书记 / Replace the secretary."""

    previous_name: str = Field(min_length=1, max_length=40, description="原书记 / previous secretary")
    new_name: str = Field(min_length=1, max_length=40, description="新任书记 / new secretary, e.g. 黄海燕")
    replaced_on: date = Field(description="调整日期 / date")


class AssignFirstSecretary(_OnCase):
    """选派第一书记（任期1至3年） / Send a first secretary for 1 to 3 years."""

    person_name: str = Field(min_length=1, max_length=40, description="第一书记 / e.g. 李卫东")
    from_on: date = Field(description="任职开始 / from")
    to_on: date = Field(description="任职结束 / to")


class AssignLiaisonLeader(_OnCase):
    """县级领导包联 / Pair a county leader with the organization."""

    leader_name: str = Field(min_length=1, max_length=40, description="包联领导 / leader")
    assigned_on: date = Field(description="包联日期 / date")


class ReportRectificationProgress(_OnCase):
    """报告整顿进展 / Report progress (township)."""

    reported_on: date = Field(description="报告日期 / date")
    summary: str = Field(min_length=1, max_length=4000, description="进展情况 / summary")


class AcceptRectificationByTownship(_OnCase):
    """乡镇初验 / Township acceptance, before the county's."""

    accepted_on: date = Field(description="验收日期 / date")
    accepted_by: str = Field(min_length=1, max_length=40, description="验收单位/人 / who accepted")


class AcceptRectification(_OnCase):
    """县委组织部验收销号 / County acceptance: the organization is converted and delisted."""

    accepted_on: date = Field(description="验收日期 / date")
    accepted_by: str = Field(min_length=1, max_length=40, description="验收单位/人 / who accepted, e.g. 中共银海区委组织部")


class ExtendRectification(_OnCase):
    """延长整顿期限 / Extend the due date (also when the county does not accept yet)."""

    new_due_on: date = Field(description="新的整顿期限 / new due date")
    reason: str = Field(min_length=1, max_length=500, description="原因 / reason")


# -- replies --------------------------------------------------------------------------------------
class YearClassified(BaseModel):
    organization_id: str = Field(description="党组织编号 / the organization")
    year: int = Field(description="定级年度 / the year classified")


class CaseOpened(BaseModel):
    case_id: str = Field(description="整顿案例编号 / the case, campaign.organization_id")
    relapse_of: str | None = Field(description="复发：前次案例（跟踪期内再次列入） / the earlier case when this is a relapse")


class CaseStep(BaseModel):
    case_id: str = Field(description="整顿案例编号 / the case")
