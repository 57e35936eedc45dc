"""Events of classification (分类定级) and rectification of weak/lax organizations (整顿软弱涣散).

Aggregates and ids (decided once, used by every writer and projection):
- "classification", id = organization_id: one subject per organization holding all its years, so
  its 晋位升级/降级 history is a single fold. A re-classification of a year is a correction (a new
  event with a note); the latest event of a year wins.
- "rectification", id = f"{campaign}.{organization_id}" (campaign = a token such as "2026"): one case
  per flagged organization per campaign. `BranchRectified` is the name fixed by the design card.
"""
from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from shared.catalog.base import DomainEvent

Grade = Literal["advanced", "average", "lagging"]
ItemSet = Literal["five_goods", "two_strongs_six_goods"]
Programme = Literal["showcase", "improve", "remedy"]


class OrganizationClassified(DomainEvent, context="org", aggregate="classification"):
    organization_id: str
    year: int
    grade: Grade = Field(description="先进 advanced / 一般 average / 后进 lagging")
    item_set: ItemSet = Field(description="五个好 five_goods / 双强六好 two_strongs_six_goods")
    items: dict[str, bool] = Field(description="item code → met")
    note: str | None = None
    programme: Programme = Field(description="示范 showcase / 提升 improve / 治弱 remedy")
    classified_on: date


class OrganizationFlaggedWeak(DomainEvent, context="org", aggregate="rectification"):
    case_id: str
    organization_id: str
    campaign: str
    reasons: tuple[str, ...] = Field(description="weak_reason codes from the rule table")
    screened_on: date = Field(description="乡镇排查 / township screening")
    decided_on: date = Field(description="县委研究确定 / county committee decision")
    relapse_of: str | None = Field(None, description="previous case id when flagged again during its follow-up")


class RectificationPlanned(DomainEvent, context="org", aggregate="rectification"):
    case_id: str
    plan: str = Field(description="一村一策 / the organization's own plan")
    measures: tuple[str, ...] = ()
    due_on: date
    liaison_leader: str | None = None


class SecretaryReplaced(DomainEvent, context="org", aggregate="rectification"):
    case_id: str
    previous_name: str
    new_name: str
    replaced_on: date


class FirstSecretaryAssigned(DomainEvent, context="org", aggregate="rectification"):
    case_id: str
    person_name: str
    from_on: date
    to_on: date


class LiaisonLeaderAssigned(DomainEvent, context="org", aggregate="rectification"):
    case_id: str
    leader_name: str
    assigned_on: date


class RectificationProgressReported(DomainEvent, context="org", aggregate="rectification"):
    case_id: str
    reported_on: date
    summary: str


class RectificationAcceptedByTownship(DomainEvent, context="org", aggregate="rectification"):
    case_id: str
    accepted_on: date
    accepted_by: str


class BranchRectified(DomainEvent, context="org", aggregate="rectification"):
    """County acceptance, 验收销号: the organization is converted (转化) and leaves the list."""

    case_id: str
    organization_id: str
    accepted_on: date
    accepted_by: str
    follow_up_until: date | None = Field(None, description="end of the follow-up year (rule table at acceptance)")


class RectificationExtended(DomainEvent, context="org", aggregate="rectification"):
    """A new due date; from township_accepted it also sends the case back to planned (county said no)."""

    case_id: str
    new_due_on: date
    reason: str
