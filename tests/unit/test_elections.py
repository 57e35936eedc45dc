"""Committee elections (换届): committee vs secretary only, terms from the rule table, reminders, postponement."""
from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from services.organizations.registry.domain import Organization
from services.organizations.lifecycle.domain import dissolve
from services.organizations.lifecycle.elections import (
    Reminder, elect_committee, election_status, next_reminder, postpone_election,
)
from services.organizations.lifecycle.commands import DissolveOrganization, ElectCommittee, PostponeElection
from services.organizations.rules.baseline import NATIONAL_BASELINE
from shared.catalog.lifecycle import CommitteeSeat
from shared.catalog.rules import RuleTable
from tests.unit.domain_support import established as org, folded, refused

TODAY = date(2025, 6, 30)
ORG = "qiaogang-village"
APPROVAL = dict(approved_by="中共银海区侨港镇委员会", approved_on=date(2025, 6, 1))


def approved(o: Organization | str) -> dict:
    """The organization a command acts on, with the approval."""
    return dict(organization_id=o if isinstance(o, str) else o.id, **APPROVAL)


def with_severity(code: str, severity: str) -> RuleTable:
    setting = tuple(r.model_copy(update={"severity": severity}) if r.code == code else r
                    for r in NATIONAL_BASELINE.setting)
    return NATIONAL_BASELINE.model_copy(update={"setting": setting})


SECRETARY = CommitteeSeat(role="secretary", name="黄海燕", member_id="huang-haiyan")
COMMITTEE = (SECRETARY, CommitteeSeat(role="organization_officer", name="陈志强"),
             CommitteeSeat(role="publicity_officer", name="梁秀英"), CommitteeSeat(role="discipline_officer", name="阮文光"))


def elect(o: Organization, seats=COMMITTEE, *, full_members=9, rules=NATIONAL_BASELINE, on=date(2021, 3, 15)):
    return elect_committee(o, ElectCommittee(organization_id=o.id, elected_on=on, committee=seats),
                           full_members=full_members,
                           rules=rules, today=TODAY)


def elected(o: Organization, **kw) -> Organization:
    return folded(o, elect(o, **kw))


# --- terms ---

@pytest.mark.parametrize("org_type, host, years", [
    ("branch", "village", 5), ("branch", "community", 5), ("branch", "school", 3),
    ("branch", "government_organ", 3), ("general_branch", "private_enterprise", 3),
    ("primary_committee", "village", 5), ("primary_committee", "government_organ", 5),
])
def test_term_length_comes_from_the_rule_table(org_type, host, years):
    [ev] = elect(org("o", org_type, host), full_members=120 if org_type == "primary_committee" else 9,
                 seats=COMMITTEE + (CommitteeSeat(role="committee_member", name="苏海"),))
    assert ev.term_years == years and ev.term_ends_on == date(2021 + years, 3, 15)


def test_a_county_may_set_other_terms():
    rules = NATIONAL_BASELINE.model_copy(update={"terms": ()})  # nothing matches: the default 3 years
    assert elect(org(), rules=rules)[0].term_years == 3


def test_term_from_29_february_ends_on_28_february():
    assert elect(org(), on=date(2024, 2, 29))[0].term_ends_on == date(2029, 2, 28)


# --- committee or secretary only ---

def test_committee_with_enough_full_members():
    [ev] = elect(org(), full_members=7)
    assert (ev.secretary_only, ev.warnings, ev.committee[0].name) == (False, (), "黄海燕")
    assert folded(org(), [ev]).committee == COMMITTEE


def test_committee_refused_below_seven_full_members_when_the_rule_is_must():
    # 6 full + 3 probationary: probationary members do not count, the caller passes full members only
    err = refused(lambda: elect(org(), full_members=6))
    assert (err.status, err.code, err.errors[0].field) == (422, "committee_min_full_members", "committee")


def test_committee_below_threshold_only_warns_when_the_rule_is_generally():
    [ev] = elect(org(), full_members=6, rules=with_severity("committee_min_full_members", "generally"))
    assert ev.secretary_only is False and len(ev.warnings) == 1 and "6" in ev.warnings[0]


def test_a_threshold_changed_in_the_table_applies():
    rules = NATIONAL_BASELINE.model_copy(update={"setting": tuple(
        r.model_copy(update={"threshold": 5}) if r.code == "committee_min_full_members" else r
        for r in NATIONAL_BASELINE.setting)})
    assert elect(org(), full_members=5, rules=rules)[0].secretary_only is False


def test_small_branch_records_a_secretary_only_optionally_with_a_deputy():
    [ev] = elect(org(), (SECRETARY,), full_members=4)
    assert (ev.secretary_only, ev.warnings) == (True, ())
    deputy = (SECRETARY, CommitteeSeat(role="deputy_secretary", name="陈志强"))
    assert elect(org(), deputy, full_members=4)[0].secretary_only is True


def test_secretary_only_with_enough_members_warns_that_a_committee_is_expected():
    [ev] = elect(org(), (SECRETARY,), full_members=12)
    assert ev.secretary_only is True and len(ev.warnings) == 1


def test_exactly_one_secretary():
    two = COMMITTEE + (CommitteeSeat(role="secretary", name="李卫东"),)
    assert refused(lambda: elect(org(), two)).code == "exactly_one_secretary"
    assert refused(lambda: elect(org(), COMMITTEE[1:])).code == "exactly_one_secretary"


def test_committee_size_outside_three_to_five_warns_and_one_person_may_hold_two_seats():
    six = COMMITTEE + (CommitteeSeat(role="deputy_secretary", name="苏海"), CommitteeSeat(role="committee_member",
                                                                                         name="何丽"))
    assert len(elect(org(), six, full_members=20)[0].warnings) == 1
    doubled = (SECRETARY, CommitteeSeat(role="organization_officer", name="黄海燕", member_id="huang-haiyan"),
               CommitteeSeat(role="publicity_officer", name="梁秀英"), CommitteeSeat(role="discipline_officer",
                                                                                     name="阮文光"))
    assert elect(org(), doubled, full_members=7)[0].warnings == ()  # 3 people


def test_more_people_elected_than_full_members_is_refused():
    rules = with_severity("committee_min_full_members", "generally")
    assert refused(lambda: elect(org(), full_members=3, rules=rules)).code == "more_seats_than_full_members"


def test_election_refusals():
    group = org("qiaogang-group-1", "party_group")
    assert refused(lambda: elect(group)).code == "no_election_for_party_group"
    assert refused(lambda: elect(org(), on=date(2025, 7, 1))).code == "elected_on_in_future"
    o = elected(org())
    err = refused(lambda: elect(o, on=date(2020, 1, 1)))
    assert (err.status, err.code) == (409, "election_not_after_current_term")
    gone = folded(org(), dissolve(org(), DissolveOrganization(reason="搬迁", **approved(ORG)), today=TODAY))
    assert refused(lambda: elect(gone)).code == "organization_dissolved"


def test_seat_roles_are_a_closed_list():
    with pytest.raises(ValidationError):
        CommitteeSeat(role="chairman", name="黄海燕")


# --- status and reminders (term 2021-03-15 → 2026-03-15) ---

@pytest.mark.parametrize("today, status", [
    (date(2025, 6, 30), "ok"), (date(2025, 9, 14), "ok"), (date(2025, 9, 15), "due_in_6_months"),
    (date(2025, 12, 14), "due_in_6_months"), (date(2025, 12, 15), "due_in_3_months"),
    (date(2026, 3, 15), "due_in_3_months"), (date(2026, 3, 16), "overdue"),
])
def test_election_status(today, status):
    assert election_status(elected(org()), today) == status


def test_no_term_recorded():
    assert election_status(org(), TODAY) == "no_term_recorded"
    assert next_reminder(org(), TODAY) == Reminder(TODAY, "no_term_recorded", None)


@pytest.mark.parametrize("today, reminder", [
    (date(2025, 6, 30), Reminder(date(2025, 9, 15), "due_in_6_months", date(2026, 3, 15))),
    (date(2025, 9, 15), Reminder(date(2025, 9, 15), "due_in_6_months", date(2026, 3, 15))),
    (date(2025, 10, 1), Reminder(date(2025, 12, 15), "due_in_3_months", date(2026, 3, 15))),
    (date(2026, 1, 10), Reminder(date(2026, 3, 16), "overdue", date(2026, 3, 15))),
    (date(2026, 3, 17), Reminder(date(2026, 4, 16), "overdue", date(2026, 3, 15))),
    (date(2026, 7, 16), Reminder(date(2026, 7, 16), "overdue", date(2026, 3, 15))),
])
def test_next_reminder(today, reminder):
    assert next_reminder(elected(org()), today) == reminder


def test_no_reminders_for_party_groups_or_dissolved_organizations():
    assert next_reminder(org("g", "party_group"), TODAY) is None
    dissolution = DissolveOrganization(reason="撤并", **approved(ORG))
    gone = folded(elected(org()), dissolve(elected(org()), dissolution, today=TODAY))
    assert next_reminder(gone, TODAY) is None


# --- postponement ---

def postpone(o, new_due_on, rules=NATIONAL_BASELINE):
    return postpone_election(o, PostponeElection(new_due_on=new_due_on, reason="村“两委”换届统一安排", **approved(o)),
                             rules=rules, today=TODAY)


def test_postponement_moves_the_due_date_and_the_reminders():
    o = elected(org())
    [ev] = postpone(o, date(2026, 12, 31))
    assert (ev.previous_due_on, ev.new_due_on, ev.approved_by) == (date(2026, 3, 15), date(2026, 12, 31), "中共银海区侨港镇委员会")
    moved = folded(o, [ev])
    assert election_status(moved, date(2026, 4, 1)) == "ok"  # overdue without the postponement
    assert next_reminder(moved, date(2026, 4, 1)).on == date(2026, 6, 30)


def test_postponement_is_limited_from_the_term_end_not_from_the_last_postponement():
    o = folded(elected(org()), postpone(elected(org()), date(2027, 3, 15)))
    err = refused(lambda: postpone(o, date(2027, 3, 16)))
    assert (err.code, err.errors[0].field) == ("election_delay_too_long", "new_due_on")
    assert refused(lambda: postpone(elected(org()), date(2026, 12, 31),
                                    NATIONAL_BASELINE.model_copy(update={"max_election_delay_months": 6}))).code \
        == "election_delay_too_long"
    assert postpone(elected(org()), date(2025, 12, 1))[0].new_due_on == date(2025, 12, 1)  # advanced, approved


def test_postponement_needs_a_recorded_term():
    err = refused(lambda: postpone(org(), date(2026, 1, 1)))
    assert (err.status, err.code) == (409, "no_term_recorded")
