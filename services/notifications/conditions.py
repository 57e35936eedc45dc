"""Time-based notification rules (pure): reminders, overdue, N days after. Evaluated by the scheduler
(daily at the county's configured China Standard Time, and on demand) over the facts the rules
projection keeps. Each notification's id comes from the condition, the item and the period, so
evaluating again the same day — or on another instance — decides the same ids and issues nothing twice.

* rectification_due — an open case's plan is due within `rectification_due_days` (once per due date);
* rectification_overdue — past its due date and not accepted: at once, then monthly while overdue;
* term_expiring — a committee's term (or its approved new election date) ends in 6 months, in 3 months
  (once each), then monthly while overdue;
* term_missing — an organization with no term recorded (once a year);
* enterprise_unorganized — a unit that qualified for its own organization (the county rule table's
  `qualifying` rule in force, projections/rules_more.py) `enterprise_unorganized_days` ago and still has none (once per qualifying date).
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

from services.notifications.domain import RuleSettings, notification_id
from services.notifications.rules import Draft


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def months_between(start: date, end: date) -> int:
    """Whole calendar months from start to end (0 within the first month)."""
    months = (end.year - start.year) * 12 + end.month - start.month
    return months - 1 if end.day < start.day else months


@dataclass(frozen=True)
class OrgRow:
    organization_id: str
    name: str | None
    township_id: str | None
    term_ends_on: date | None
    election_due_on: date | None


@dataclass(frozen=True)
class CaseRow:
    case_id: str
    organization_id: str | None
    due_on: date | None


@dataclass(frozen=True)
class UnitRow:
    enterprise_id: str
    name: str | None
    township_id: str | None
    qualified_since: date


def draft_for(county: str, kind: str, key: str, period: str, severity: str, title: str, summary: str, link: str,
           today: date, org: OrgRow | None = None, township_id: str | None = None) -> Draft:
    return Draft(notification_id(county, kind, f"{key}:{period}"), kind, severity, title, summary, link, today,
                 org.organization_id if org else None, org.name if org else None,
                 org.township_id if org else township_id, (), condition=f"{kind}:{key}", period=period)


def due_conditions(county: str, today: date, orgs: dict[str, OrgRow], cases: list[CaseRow], units: list[UnitRow],
                   settings: RuleSettings) -> list[Draft]:
    current = settings.in_force(today)
    out: list[Draft] = []
    base = f"/api/v1/counties/{county}"
    for case in cases:
        org = orgs.get(case.organization_id or "")
        name = (org.name if org else None) or case.organization_id
        if case.due_on is None:
            continue
        link = f"{base}/rectification-cases/{case.case_id}"
        if today <= case.due_on <= today + timedelta(days=current.rectification_due_days):
            out.append(draft_for(county, "rectification_due", case.case_id, case.due_on.isoformat(), "warning",
                              f"{name}整顿期限将至", f"{name}整顿方案应于 {case.due_on.isoformat()} 前完成，请抓紧推进并组织验收。",
                              link, today, org))
        elif today > case.due_on:
            month = months_between(case.due_on + timedelta(days=1), today)
            out.append(draft_for(county, "rectification_overdue", case.case_id, f"{case.due_on.isoformat()}+{month}m",
                              "critical", f"{name}整顿已逾期",
                              f"{name}整顿期限 {case.due_on.isoformat()} 已过，尚未验收销号（逾期第 {month + 1} 个月）。",
                              link, today, org))
    for org in orgs.values():
        name = org.name or org.organization_id
        link = f"{base}/election-reminders"
        due = org.election_due_on or org.term_ends_on
        if due is None:
            out.append(draft_for(county, "term_missing", org.organization_id, str(today.year), "warning",
                              f"{name}未录入任期", f"{name}没有届期记录，请补录最近一次换届选举。", link, today, org))
        elif today > due:
            month = months_between(due + timedelta(days=1), today)
            out.append(draft_for(county, "term_expiring", org.organization_id, f"{due.isoformat()}+{month}m", "critical",
                              f"{name}换届已逾期", f"{name}任期已于 {due.isoformat()} 届满，尚未换届（逾期第 {month + 1} 个月）。",
                              link, today, org))
        else:
            for months, label in ((3, "3m"), (6, "6m")):
                if today >= add_months(due, -months):
                    out.append(draft_for(county, "term_expiring", org.organization_id, f"{due.isoformat()}-{label}",
                                      "warning", f"{name}将于{months}个月内换届",
                                      f"{name}任期于 {due.isoformat()} 届满，请提前做好换届准备。", link, today, org))
                    break
    for unit in units:
        days = current.enterprise_unorganized_days
        if today >= unit.qualified_since + timedelta(days=days):
            name = unit.name or unit.enterprise_id
            out.append(draft_for(county, "enterprise_unorganized", unit.enterprise_id, unit.qualified_since.isoformat(),
                              "warning", f"{name}具备组建条件仍未建立党组织",
                              f"{name}自 {unit.qualified_since.isoformat()} 起具备单独组建条件，{days} 天后仍未建立党组织。",
                              f"{base}/enterprises", today, township_id=unit.township_id))
    return [d for d in out if settings.enabled(d.kind, today)]
