"""Time-based reminders about members (issue 12), pure, evaluated by the scheduler beside conditions.py
with the county's rule table in force (development and mobile rules, each from its effective date):

* probation_due — a probationary member's probation ends within `probation_due_days` (转正 due; once per
  end date, so an extension reminds again);
* probation_overdue — probation ended and neither confirmed nor cancelled: at once, then monthly;
* branch_no_candidate — a branch (or committee holding members) without a development candidate for
  `no_candidate_years` (since its last candidate, or its founding): once per such period;
* member_away_unregistered — a member recorded away `min_months_away` months or more and not registered
  as a mobile member: once per departure.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from shared.catalog.rules import RuleTable
from services.notifications.conditions import OrgRow, add_months, draft_for, months_between
from services.notifications.rules import Draft

MEMBER_HOLDING_TYPES = frozenset({"branch", "joint_branch", "general_branch", "primary_committee"})


@dataclass(frozen=True)
class ProbationRow:
    member_id: str
    name: str | None
    branch_id: str | None
    ends_on: date


@dataclass(frozen=True)
class BranchRow:
    org: OrgRow
    organization_type: str | None
    approved_on: date | None
    last_candidate_on: date | None


@dataclass(frozen=True)
class AwayRow:
    member_id: str
    name: str | None
    branch_id: str | None
    away_since: date


def member_conditions(county: str, today: date, table: RuleTable, orgs: dict[str, OrgRow],
                      probations: list[ProbationRow], branches: list[BranchRow], away: list[AwayRow]) -> list[Draft]:
    base, dev, out = f"/api/v1/counties/{county}", table.development, []
    for p in probations:
        org = orgs.get(p.branch_id or "")
        who = f"{p.name or p.member_id}（{(org.name if org else None) or p.branch_id or ''}）"
        link = f"{base}/probation-due"
        if today <= p.ends_on <= today + timedelta(days=dev.probation_due_days):
            out.append(draft_for(county, "probation_due", p.member_id, p.ends_on.isoformat(), "info",
                              f"预备党员{p.name or p.member_id}预备期即将届满",
                              f"预备党员{who}预备期于 {p.ends_on.isoformat()} 届满，请按期讨论其转正。", link, today, org))
        elif today > p.ends_on:
            month = months_between(p.ends_on + timedelta(days=1), today)
            out.append(draft_for(county, "probation_overdue", p.member_id, f"{p.ends_on.isoformat()}+{month}m", "warning",
                              f"预备党员{p.name or p.member_id}预备期已满未转正",
                              f"预备党员{who}预备期已于 {p.ends_on.isoformat()} 届满，尚未讨论转正（逾期第 {month + 1} 个月）。",
                              link, today, org))
    cutoff = add_months(today, -12 * dev.no_candidate_years)
    for b in branches:
        since = b.last_candidate_on or b.approved_on
        if b.organization_type not in MEMBER_HOLDING_TYPES or since is None or since > cutoff:
            continue
        name = b.org.name or b.org.organization_id
        out.append(draft_for(county, "branch_no_candidate", b.org.organization_id, since.isoformat(), "warning",
                          f"{name}连续{dev.no_candidate_years}年未确定发展对象",
                          f"{name}自 {since.isoformat()} 起未确定发展对象，请列入排查。",
                          f"{base}/branches-without-candidates", today, b.org))
    months = table.mobile.min_months_away
    for a in away:
        if months_between(a.away_since, today) < months:
            continue
        org = orgs.get(a.branch_id or "")
        out.append(draft_for(county, "member_away_unregistered", a.member_id, a.away_since.isoformat(), "warning",
                          f"党员{a.name or a.member_id}外出满{months}个月未登记为流动党员",
                          f"党员{a.name or a.member_id}（{(org.name if org else None) or a.branch_id or ''}）自 "
                          f"{a.away_since.isoformat()} 外出，已满{months}个月，请登记为流动党员或转接组织关系。",
                          f"{base}/mobile-members", today, org))
    return out
