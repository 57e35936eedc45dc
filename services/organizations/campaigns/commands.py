"""Commands of classification (分类定级) and rectification (整顿) — shape only; rules in campaigns.py
and rectification.py. The case a rectification command acts on is named by the request path:
case id = f"{campaign}.{organization_id}" (neither token contains a dot, so the id splits cleanly).
"""
from __future__ import annotations

from datetime import date

from pydantic import Field, field_validator

from services.organizations.commands import TOKEN_PATTERN, _blank_to_none, _Command
from shared.catalog.campaigns import Grade

CAMPAIGN_PATTERN = r"^[A-Za-z0-9_-]{1,32}$"


class ClassifyOrganization(_Command):
    """分类定级 / Classify an organization for a year; the item set follows its host unit."""

    year: int = Field(ge=2000, le=2100, description="定级年度 / year, e.g. 2025")
    grade: Grade = Field(description="先进 advanced / 一般 average / 后进 lagging")
    items: dict[str, bool] = Field(description="各项是否达标，键为项目编码 / item code → met, e.g. {\"good_leadership\": true}")
    note: str | None = Field(None, max_length=500, description="说明；同一年度重新定级（更正）时必填 / note; "
                                                               "required when correcting a year")
    classified_on: date = Field(description="定级日期 / date of the decision")

    _blank = field_validator("note", mode="before")(_blank_to_none)


class FlagOrganizationWeak(_Command):
    """确定软弱涣散党组织 / List an organization as weak or lax in a campaign (县委研究确定)."""

    organization_id: str = Field(pattern=TOKEN_PATTERN, description="党组织编号 / organization id")
    campaign: str = Field(pattern=CAMPAIGN_PATTERN, description="整顿批次 / campaign token, e.g. 2026")
    reasons: tuple[str, ...] = Field(description="软弱涣散情形编码（规则表） / weak_reason codes from the rule table")
    screened_on: date = Field(description="乡镇排查日期 / township screening date")
    decided_on: date = Field(description="县委研究确定日期 / county committee decision date")


class PlanRectification(_Command):
    """一村一策 / The organization's rectification plan."""

    plan: str = Field(min_length=1, max_length=4000, description="整顿方案 / plan text")
    measures: tuple[str, ...] = Field((), max_length=30, description="整顿措施 / measures")
    due_on: date = Field(description="整顿期限 / due date")
    liaison_leader: str | None = Field(None, max_length=40, description="包联县级领导（可选） / county leader contact")

    _blank = field_validator("liaison_leader", mode="before")(_blank_to_none)


class ReplaceSecretary(_Command):
    """调整书记 / Replace the secretary."""

    previous_name: str = Field(min_length=1, max_length=40, description="原书记 / previous secretary")
    new_name: str = Field(min_length=1, max_length=40, description="新任书记 / new secretary, e.g. 黄海燕")
    replaced_on: date = Field(description="调整日期 / date")


class AssignFirstSecretary(_Command):
    """选派第一书记（任期1至3年） / Send a first secretary for 1 to 3 years."""

    person_name: str = Field(min_length=1, max_length=40, description="第一书记 / e.g. 李卫东")
    from_on: date = Field(description="任职开始 / from")
    to_on: date = Field(description="任职结束 / to")


class AssignLiaisonLeader(_Command):
    """县级领导包联 / Pair a county leader with the organization."""

    leader_name: str = Field(min_length=1, max_length=40, description="包联领导 / leader")
    assigned_on: date = Field(description="包联日期 / date")


class ReportRectificationProgress(_Command):
    """报告整顿进展 / Report progress (township)."""

    reported_on: date = Field(description="报告日期 / date")
    summary: str = Field(min_length=1, max_length=4000, description="进展情况 / summary")


class AcceptRectificationByTownship(_Command):
    """乡镇初验 / Township acceptance, before the county's."""

    accepted_on: date = Field(description="验收日期 / date")
    accepted_by: str = Field(min_length=1, max_length=40, description="验收单位/人 / who accepted")


class AcceptRectification(_Command):
    """县委组织部验收销号 / County acceptance: the organization is converted and delisted."""

    accepted_on: date = Field(description="验收日期 / date")
    accepted_by: str = Field(min_length=1, max_length=40, description="验收单位/人 / who accepted, e.g. 中共银海区委组织部")


class ExtendRectification(_Command):
    """延长整顿期限 / Extend the due date (also when the county does not accept yet)."""

    new_due_on: date = Field(description="新的整顿期限 / new due date")
    reason: str = Field(min_length=1, max_length=500, description="原因 / reason")
