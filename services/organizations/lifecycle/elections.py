"""Committee elections (换届): who may be elected, the term from the rule table, postponement with
approval, and the reminders (6 and 3 months before, monthly while overdue, no term recorded).

Pure: each function reads a folded `Organization` and returns events or a status; nothing mutates.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from services.organizations.registry.domain import Organization, check_not_future
from services.organizations.lifecycle.commands import ElectCommittee, PostponeElection
from services.organizations.lifecycle.setting_rules import (
    check_approval, check_committee_needs_seven_full_members, check_committee_size, check_exactly_one_secretary,
    check_exists, check_holds_elections, check_not_dissolved,
)
from shared.catalog.base import DomainEvent
from shared.catalog.lifecycle import CommitteeElected, ElectionPostponed
from shared.catalog.rules import RuleTable
from shared.errors import conflict, invalid

SECRETARY_ONLY_ROLES = frozenset({"secretary", "deputy_secretary"})
ElectionStatus = Literal["no_term_recorded", "ok", "due_in_6_months", "due_in_3_months", "overdue"]


def add_months(day: date, months: int) -> date:
    """Calendar months later (or earlier); the day is clamped to the month's end (31 Aug − 6 → 28/29 Feb)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def elect_committee(org: Organization, cmd: ElectCommittee, *, full_members: int, rules: RuleTable,
                    today: date) -> list[DomainEvent]:
    """`full_members`: 正式党员 only (probationary members neither count nor may be elected).
    A secretary (plus, if needed, a deputy) is always possible; a committee needs the rule table's
    number of full members — refused or warned by that rule's severity."""
    check_exists(org)
    check_not_dissolved(org)
    check_holds_elections(org)
    check_not_future(cmd.elected_on, today, "elected_on", "选举日期", "election date")
    if cmd.approved_on is not None:
        check_approval(cmd.approved_on, today)
    if org.elected_on is not None and cmd.elected_on <= org.elected_on:
        raise conflict("election_not_after_current_term",
                       f"本届选举于 {org.elected_on}，新选举日期须在其后 / the current term was elected on "
                       f"{org.elected_on}; a new election must come after it")
    check_exactly_one_secretary(cmd.committee)
    people = len({seat.member_id or seat.name for seat in cmd.committee})
    if people > full_members:
        raise invalid("more_seats_than_full_members", "committee",
                      f"当选{people}人，多于正式党员{full_members}人 / {people} people elected but only "
                      f"{full_members} full members")
    secretary_only = all(seat.role in SECRETARY_ONLY_ROLES for seat in cmd.committee) and len(cmd.committee) <= 2
    assert org.organization_type is not None and org.host_unit_type is not None
    threshold = rules.setting_rule("committee_min_full_members").threshold
    warnings: list[str] = []
    if secretary_only and full_members >= threshold:
        warnings.append(f"正式党员{full_members}人，达到{threshold}人，应设委员会 / {full_members} full members: "
                        f"a committee is expected")
    if not secretary_only:
        warnings += check_committee_needs_seven_full_members(full_members, rules)
        warnings += check_committee_size(org.organization_type, people)
    term_years = rules.term_years(org.organization_type, org.host_unit_type)
    return [CommitteeElected(organization_id=org.id, elected_on=cmd.elected_on, term_years=term_years,
                             term_ends_on=add_months(cmd.elected_on, 12 * term_years), committee=cmd.committee,
                             secretary_only=secretary_only, warnings=tuple(warnings),
                             approved_by=cmd.approved_by, approved_on=cmd.approved_on)]


def postpone_election(org: Organization, cmd: PostponeElection, *, rules: RuleTable,
                      today: date) -> list[DomainEvent]:
    """Delay or advance, with approval, within max_election_delay_months of the term's end (measured
    from the term end, so repeated postponements cannot stretch it further)."""
    check_exists(org)
    check_not_dissolved(org)
    check_holds_elections(org)
    check_approval(cmd.approved_on, today)
    if org.term_ends_on is None:
        raise conflict("no_term_recorded", "未登记任期，无法延期换届 / no term recorded; record the election first")
    limit = rules.max_election_delay_months
    if not add_months(org.term_ends_on, -limit) <= cmd.new_due_on <= add_months(org.term_ends_on, limit):
        raise invalid("election_delay_too_long", "new_due_on",
                      f"延期或提前换届一般不超过{limit}个月（任期届满 {org.term_ends_on}） / an election may move at "
                      f"most {limit} months from the term end ({org.term_ends_on})")
    if cmd.new_due_on == org.election_due_on:
        raise invalid("same_due_date", "new_due_on", "新的换届期限与现期限相同 / the due date does not change")
    return [ElectionPostponed(organization_id=org.id, new_due_on=cmd.new_due_on, previous_due_on=org.election_due_on,
                              reason=cmd.reason, approved_by=cmd.approved_by, approved_on=cmd.approved_on)]


def holds_elections(org: Organization) -> bool:
    """Active branches and committees elect; party groups, dissolved and merged ones get no reminders."""
    return org.exists and org.status == "active" and org.can_hold_members


def election_status(org: Organization, today: date) -> ElectionStatus:
    due = org.election_due_on or org.term_ends_on
    if due is None:
        return "no_term_recorded"
    if today > due:
        return "overdue"
    if today >= add_months(due, -3):
        return "due_in_3_months"
    if today >= add_months(due, -6):
        return "due_in_6_months"
    return "ok"


@dataclass(frozen=True)
class Reminder:
    on: date
    status: ElectionStatus
    due_on: date | None


def next_reminder(org: Organization, today: date) -> Reminder | None:
    """The next reminder on or after today: 6 and 3 months before the due date, the first overdue day
    and monthly after it; at once when no term is recorded. None for organizations that hold no elections."""
    if not holds_elections(org):
        return None
    due = org.election_due_on or org.term_ends_on
    if due is None:
        return Reminder(today, "no_term_recorded", None)
    for months, status in ((6, "due_in_6_months"), (3, "due_in_3_months")):
        if (on := add_months(due, -months)) >= today:
            return Reminder(on, status, due)  # type: ignore[arg-type]
    first = due + timedelta(days=1)
    k = max(0, (today.year - first.year) * 12 + today.month - first.month)
    on = add_months(first, k)
    return Reminder(on if on >= today else add_months(first, k + 1), "overdue", due)


