"""Notification rules (pure): which stored event becomes which notification, in Chinese.

`notifications_for(county, event_type, event, event_id, facts, settings)` returns the drafts one event
causes. What a rule needs besides the event (the organization's name and township, the previous year's
class, which organization a rectification case is about) comes from `facts`, the rules projection's
read of what happened before (services/notifications/projections/rules_state.py). Rules that depend on
time rather than an event (reminders, overdue, N days after) are in conditions.py.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from services.notifications.domain import RuleSettings, notification_id

GRADE_RANK = {"lagging": 0, "average": 1, "advanced": 2}
GRADE_ZH = {"lagging": "后进", "average": "一般", "advanced": "先进"}
TYPE_ZH = {"primary_committee": "基层党委", "general_branch": "党总支", "branch": "党支部", "joint_branch": "联合党支部",
           "party_group": "党小组"}
TWO_NEW = {"private_enterprise": "非公企业", "social_organization": "社会组织"}  # 两新组织


@dataclass(frozen=True)
class OrgFacts:
    name: str | None = None
    township_id: str | None = None


class Facts(Protocol):
    def organization(self, organization_id: str) -> OrgFacts: ...

    def case_organization(self, case_id: str) -> str | None: ...

    def previous_grade(self, organization_id: str, year: int) -> str | None: ...


@dataclass(frozen=True)
class Draft:
    """A notification decided by a rule (the payload of NotificationIssued)."""

    notification_id: str
    kind: str
    severity: str
    title: str
    summary: str
    link: str
    occurred_on: date
    organization_id: str | None = None
    organization_name: str | None = None
    township_id: str | None = None
    event_ids: tuple[str, ...] = ()
    condition: str | None = None
    period: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def payload(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in ("notification_id", "kind", "severity", "title", "summary", "link",
                                              "occurred_on", "organization_id", "organization_name", "township_id",
                                              "event_ids", "condition", "period")}
        out["occurred_on"] = self.occurred_on.isoformat()
        out["event_ids"] = list(self.event_ids)
        return out


def _about(county: str, kind: str, severity: str, title: str, summary: str, link: str, day: date,
           org_id: str | None, facts: Facts, event_id: str) -> Draft:
    org = facts.organization(org_id) if org_id else OrgFacts()
    name = org.name or org_id or ""
    return Draft(notification_id(county, kind, event_id), kind, severity, title.format(name=name),
                 summary.format(name=name), link, day, org_id, org.name, org.township_id, (event_id,))


def notifications_for(county: str, event_type: str, ev: Any, event_id: str, facts: Facts,
                      settings: RuleSettings) -> list[Draft]:
    rule = EVENT_RULES.get(event_type)
    if rule is None:
        return []
    drafts = rule(county, ev, event_id, facts)
    return [d for d in drafts if settings.enabled(d.kind, d.occurred_on)]


def _org_link(county: str, org_id: str) -> str:
    return f"/api/v1/counties/{county}/organizations?organization_id={org_id}"


def _case_link(county: str, case_id: str) -> str:
    return f"/api/v1/counties/{county}/rectification-cases/{case_id}"


def _flagged(county: str, ev: Any, event_id: str, facts: Facts) -> list[Draft]:
    reasons = "、".join(ev.reasons)
    if ev.relapse_of:
        return [_about(county, "rectification_relapsed", "critical", "{name}整顿后反弹，再次列为软弱涣散",
                       f"{{name}}在整顿后跟踪期内再次被列为软弱涣散党组织（原案 {ev.relapse_of}；情形：{reasons}）。",
                       _case_link(county, ev.case_id), ev.decided_on, ev.organization_id, facts, event_id)]
    return [_about(county, "organization_flagged_weak", "critical", "{name}被列为软弱涣散党组织",
                   f"县委研究确定{{name}}为软弱涣散基层党组织（情形：{reasons}），请制定一村一策整顿方案。",
                   _case_link(county, ev.case_id), ev.decided_on, ev.organization_id, facts, event_id)]


def _extended(county: str, ev: Any, event_id: str, facts: Facts) -> list[Draft]:
    org = facts.case_organization(ev.case_id)
    return [_about(county, "rectification_extended", "warning", "{name}整顿期限延长",
                   f"{{name}}整顿期限延长至 {ev.new_due_on.isoformat()}（原因：{ev.reason}）。",
                   _case_link(county, ev.case_id), ev.new_due_on, org, facts, event_id)]


def _accepted(county: str, ev: Any, event_id: str, facts: Facts) -> list[Draft]:
    return [_about(county, "rectification_accepted", "info", "{name}整顿验收销号",
                   f"{{name}}整顿经 {ev.accepted_by} 验收销号（{ev.accepted_on.isoformat()}）。",
                   _case_link(county, ev.case_id), ev.accepted_on, ev.organization_id, facts, event_id)]


def _established(county: str, ev: Any, event_id: str, facts: Facts) -> list[Draft]:
    """Any founding, a 两新组织's too (its EnterpriseBranchFounded events, one per covered unit, add none)."""
    kind = TYPE_ZH.get(ev.organization_type, ev.organization_type)
    title = f"新成立{ev.name}"
    if ev.host_unit_type in TWO_NEW:
        title = f"{TWO_NEW[ev.host_unit_type]}新建党组织：{ev.name}"
    return [Draft(notification_id(county, "organization_founded", event_id), "organization_founded", "info", title,
                  f"{ev.name}（{kind}）经 {ev.approved_by} 批准成立（{ev.approved_on.isoformat()}）。",
                  _org_link(county, ev.organization_id), ev.approved_on, ev.organization_id, ev.name,
                  ev.township_id, (event_id,))]


def _dissolved(county: str, ev: Any, event_id: str, facts: Facts) -> list[Draft]:
    return [_about(county, "organization_dissolved", "warning", "{name}已撤销",
                   f"{{name}}经 {ev.approved_by} 批准撤销（原因：{ev.reason}）。",
                   _org_link(county, ev.organization_id), ev.approved_on, ev.organization_id, facts, event_id)]


def _merged(county: str, ev: Any, event_id: str, facts: Facts) -> list[Draft]:
    into = facts.organization(ev.into_organization_id).name or ev.into_organization_id
    return [_about(county, "organization_merged", "info", "{name}并入" + into,
                   f"{{name}}经 {ev.approved_by} 批准并入{into}。",
                   _org_link(county, ev.into_organization_id), ev.approved_on, ev.organization_id, facts, event_id)]


def _upgraded(county: str, ev: Any, event_id: str, facts: Facts) -> list[Draft]:
    to = TYPE_ZH.get(ev.to_type, ev.to_type)
    return [_about(county, "organization_upgraded", "info", "{name}升格为" + to,
                   f"{{name}}由{TYPE_ZH.get(ev.from_type, ev.from_type)}升格为{to}（{ev.approved_by} 批准）。",
                   _org_link(county, ev.organization_id), ev.approved_on, ev.organization_id, facts, event_id)]


def _classified(county: str, ev: Any, event_id: str, facts: Facts) -> list[Draft]:
    before = facts.previous_grade(ev.organization_id, ev.year)
    if before is None or GRADE_RANK[before] == GRADE_RANK[ev.grade]:
        return []
    up = GRADE_RANK[ev.grade] > GRADE_RANK[before]
    kind, severity, verb = ("organization_promoted", "info", "晋位升级") if up else ("organization_demoted", "warning", "降级")
    return [_about(county, kind, severity, "{name}" + verb,
                   f"{{name}}{ev.year}年度分类定级为{GRADE_ZH[ev.grade]}（上一年度：{GRADE_ZH[before]}），{verb}。",
                   f"/api/v1/counties/{county}/classifications", ev.classified_on, ev.organization_id, facts, event_id)]


EVENT_RULES = {
    "OrganizationFlaggedWeak": _flagged,
    "RectificationExtended": _extended,
    "BranchRectified": _accepted,
    "OrganizationEstablished": _established,
    "OrganizationDissolved": _dissolved,
    "OrganizationMerged": _merged,
    "OrganizationUpgraded": _upgraded,
    "OrganizationClassified": _classified,
}
