"""Rectification of weak/lax organizations (整顿软弱涣散): the case state machine, reasons from the rule
table, first secretary terms, relapse within the follow-up year, overdue cases, conversion rate."""
from __future__ import annotations

from datetime import date

import pytest

from services.organizations.campaigns.commands import (
    AcceptRectification, AcceptRectificationByTownship, AssignFirstSecretary, AssignLiaisonLeader,
    ExtendRectification, FlagOrganizationWeak, PlanRectification, ReplaceSecretary, ReportRectificationProgress,
)
from services.organizations.campaigns.rectification import (
    RectificationCase, case_id, conversion_rate, follow_up_until, is_relapse, overdue,
)
from services.organizations.registry.domain import Organization
from services.organizations.rules.baseline import NATIONAL_BASELINE
from shared.catalog import CATALOG
from shared.catalog.campaigns import BranchRectified
from shared.catalog.lifecycle import OrganizationDissolved
from shared.catalog.rules import WeakReason
from tests.unit.domain_support import established as org, folded, refused

TODAY = date(2026, 12, 31)
ORG = "qiaogang-village"
CASE = case_id("2026", ORG)




def flag_cmd(campaign="2026", reasons=("secretary_unfit", "rules_a_formality"), screened=date(2026, 2, 20),
             decided=date(2026, 3, 10), org_id=ORG):
    return FlagOrganizationWeak(organization_id=org_id, campaign=campaign, reasons=reasons, screened_on=screened,
                                decided_on=decided)


def flagged(campaign="2026", rules=NATIONAL_BASELINE, previous=None, **kw) -> RectificationCase:
    case = RectificationCase(case_id(campaign, ORG))
    return folded(case, case.flag(flag_cmd(campaign, **kw), organization=org(), rules=rules, today=TODAY,
                                  previous=previous))


def planned(campaign="2026", due=date(2026, 9, 30), **kw) -> RectificationCase:
    case = flagged(campaign, **kw)
    return folded(case, case.plan_rectification(PlanRectification(case_id=case.id,
        plan="一村一策：调整村党支部书记，规范“三会一课”，整治村务公开", measures=("调整书记", "选派第一书记"),
        due_on=due, liaison_leader="区委常委 王建国"), today=TODAY))


def township_accepted(campaign="2026", on=date(2026, 9, 20), **kw) -> RectificationCase:
    case = planned(campaign, **kw)
    return folded(case, case.accept_by_township(AcceptRectificationByTownship(case_id=case.id,
        accepted_on=on, accepted_by="中共银海区侨港镇委员会"), today=TODAY))


def rectified(campaign="2026", on=date(2026, 10, 15), rules=NATIONAL_BASELINE, township_on=date(2026, 9, 20),
              **kw) -> RectificationCase:
    case = township_accepted(campaign, on=township_on, **kw)
    return folded(case, case.accept(AcceptRectification(case_id=case.id, accepted_on=on, accepted_by="中共银海区委组织部"),
                                    rules=rules, today=TODAY))


COUNTY_ACCEPT = AcceptRectification(case_id=CASE, accepted_on=date(2026, 10, 15), accepted_by="中共银海区委组织部")


# --- the whole path ---

def test_events_are_on_the_rectification_subject_and_branch_rectified_keeps_its_name():
    assert CATALOG["BranchRectified"] is BranchRectified
    assert {CATALOG[n].aggregate_type for n in ("OrganizationFlaggedWeak", "RectificationPlanned", "BranchRectified",
                                                "RectificationExtended")} == {"rectification"}
    assert case_id("2026", ORG) == "2026.qiaogang-village"


def test_flag_plan_measures_progress_and_two_acceptances():
    case = planned()
    assert (case.status, case.liaison_leader, case.due_on) == ("planned", "区委常委 王建国", date(2026, 9, 30))
    for events in (
        case.replace_secretary(ReplaceSecretary(case_id=CASE, previous_name="陈大海", new_name="黄海燕",
                                                replaced_on=date(2026, 4, 1)),
                               today=TODAY),
        case.assign_first_secretary(AssignFirstSecretary(case_id=CASE, person_name="李卫东", from_on=date(2026, 4, 1),
                                                         to_on=date(2028, 3, 31)), today=TODAY),
        case.assign_liaison_leader(AssignLiaisonLeader(case_id=CASE, leader_name="区委常委 刘志明",
                                                       assigned_on=date(2026, 4, 5)),
                                   today=TODAY),
        case.report_progress(ReportRectificationProgress(case_id=CASE, reported_on=date(2026, 6, 30),
                                                         summary="新班子已到位，村务公开栏每月更新"), today=TODAY),
        case.accept_by_township(AcceptRectificationByTownship(case_id=CASE, accepted_on=date(2026, 9, 20),
                                                              accepted_by="中共银海区侨港镇委员会"), today=TODAY),
    ):
        folded(case, events)
    assert (case.secretary, case.first_secretaries[0].person_name, case.liaison_leader, len(case.progress)) == \
        ("黄海燕", "李卫东", "区委常委 刘志明", 1)
    [ev] = case.accept(COUNTY_ACCEPT, rules=NATIONAL_BASELINE, today=TODAY)
    assert isinstance(ev, BranchRectified)
    assert (ev.case_id, ev.organization_id, ev.follow_up_until) == ("2026.qiaogang-village", ORG, date(2027, 10, 15))
    assert folded(case, [ev]).status == "rectified"


# --- flagging ---

def test_flag_records_the_decision():
    case = flagged(reasons=("secretary_unfit", "secretary_unfit", "election_overdue"))
    assert (case.status, case.reasons, case.relapse_of) == ("flagged", ("secretary_unfit", "election_overdue"), None)


def test_flag_needs_reasons_from_the_rule_table():
    err = refused(lambda: flagged(reasons=()))
    assert (err.status, err.code, err.errors[0].field) == (422, "no_reasons", "reasons")
    err = refused(lambda: flagged(reasons=("secretary_unfit", "bad_feng_shui")))
    assert (err.status, err.code) == (422, "unknown_weak_reason")
    assert "bad_feng_shui" in err.detail and "committee_incomplete" in err.detail and "weak_service" in err.detail
    local = NATIONAL_BASELINE.model_copy(update={"weak_reasons": NATIONAL_BASELINE.weak_reasons + (
        WeakReason(code="collective_economy_zero", name="村集体经济收入为零", local=True),)})
    assert flagged(reasons=("collective_economy_zero",), rules=local).reasons == ("collective_economy_zero",)


def test_flag_refusals():
    case = flagged()
    err = refused(lambda: case.flag(flag_cmd(), organization=org(), rules=NATIONAL_BASELINE, today=TODAY))
    assert (err.status, err.code) == (409, "already_flagged")
    assert refused(lambda: flagged(screened=date(2026, 3, 11))).code == "screened_after_decision"
    assert refused(lambda: flagged(decided=date(2027, 1, 1))).code == "decided_on_in_future"
    other = RectificationCase("2026.haixian")
    assert refused(lambda: other.flag(flag_cmd(), organization=org(), rules=NATIONAL_BASELINE, today=TODAY)).code \
        == "case_id_mismatch"
    err = refused(lambda: RectificationCase(case_id("2026", ORG)).flag(
        flag_cmd(), organization=Organization(ORG), rules=NATIONAL_BASELINE, today=TODAY))
    assert (err.status, err.code) == (404, "organization_not_found")
    gone = folded(org(), [OrganizationDissolved(organization_id=ORG, reason="撤并", approved_by="区委",
                                                approved_on=date(2026, 1, 5))])
    assert refused(lambda: RectificationCase(case_id("2026", ORG)).flag(
        flag_cmd(), organization=gone, rules=NATIONAL_BASELINE, today=TODAY)).code == "organization_dissolved"


# --- refused transitions ---

def test_nothing_happens_to_a_case_that_was_never_flagged():
    err = refused(lambda: RectificationCase("2026.qiaogang-village").accept(COUNTY_ACCEPT, rules=NATIONAL_BASELINE,
                                                                           today=TODAY))
    assert (err.status, err.code) == (404, "not_flagged")


def test_county_acceptance_needs_township_acceptance_first():
    for case in (flagged(), planned()):
        err = refused(lambda: case.accept(COUNTY_ACCEPT, rules=NATIONAL_BASELINE, today=TODAY))
        expected = "not_planned" if case.status == "flagged" else "township_acceptance_missing"
        assert (err.status, err.code) == (409, expected)


def test_order_of_the_steps():
    township = AcceptRectificationByTownship(case_id=CASE, accepted_on=date(2026, 9, 20), accepted_by="侨港镇党委")
    progress = ReportRectificationProgress(case_id=CASE, reported_on=date(2026, 6, 30), summary="进展")
    assert refused(lambda: flagged().accept_by_township(township, today=TODAY)).code == "not_planned"
    assert refused(lambda: flagged().report_progress(progress, today=TODAY)).code == "not_planned"
    plan = PlanRectification(case_id=CASE, plan="第二份方案", due_on=date(2026, 12, 1))
    assert refused(lambda: planned().plan_rectification(plan, today=TODAY)).code == "already_planned"
    assert refused(lambda: township_accepted().accept_by_township(township, today=TODAY)).code \
        == "already_accepted_by_township"
    done = rectified()
    for call in (lambda: done.accept(COUNTY_ACCEPT, rules=NATIONAL_BASELINE, today=TODAY),
                 lambda: done.report_progress(progress, today=TODAY),
                 lambda: done.extend(ExtendRectification(case_id=CASE, new_due_on=date(2027, 3, 1), reason="x"),
                                     today=TODAY)):
        assert (refused(call).status, refused(call).code) == (409, "already_rectified")
    early = AcceptRectification(case_id=CASE, accepted_on=date(2026, 9, 19), accepted_by="中共银海区委组织部")
    assert refused(lambda: township_accepted().accept(early, rules=NATIONAL_BASELINE, today=TODAY)).code \
        == "accepted_too_early"
    too_soon = PlanRectification(case_id=CASE, plan="方案", due_on=date(2026, 3, 10))
    assert refused(lambda: flagged().plan_rectification(too_soon, today=TODAY)).code == "due_before_decision"


# --- first secretary (1–3 years) ---

@pytest.mark.parametrize("to_on, ok", [
    (date(2027, 3, 31), False), (date(2027, 4, 1), True), (date(2029, 4, 1), True), (date(2029, 4, 2), False),
    (date(2026, 3, 1), False),
])
def test_first_secretary_serves_one_to_three_years(to_on, ok):
    cmd = AssignFirstSecretary(case_id=CASE, person_name="李卫东", from_on=date(2026, 4, 1), to_on=to_on)
    if ok:
        assert planned().assign_first_secretary(cmd, today=TODAY)[0].to_on == to_on
    else:
        err = refused(lambda: planned().assign_first_secretary(cmd, today=TODAY))
        assert (err.status, err.code, err.errors[0].field) == (422, "first_secretary_term", "to_on")


# --- extension and overdue ---

def test_extension_from_planned_and_from_township_accepted():
    case = folded(planned(), planned().extend(ExtendRectification(case_id=CASE, new_due_on=date(2026, 12, 31),
                                                                  reason="汛期影响"),
                                              today=TODAY))
    assert (case.status, case.due_on) == ("planned", date(2026, 12, 31))
    back = township_accepted()
    folded(back, back.extend(ExtendRectification(case_id=CASE, new_due_on=date(2026, 12, 31), reason="县级验收未通过：财务公开不到位"),
                             today=TODAY))
    assert back.status == "planned"
    assert refused(lambda: back.accept(COUNTY_ACCEPT, rules=NATIONAL_BASELINE, today=TODAY)).code \
        == "township_acceptance_missing"
    earlier = ExtendRectification(case_id=CASE, new_due_on=date(2026, 11, 1), reason="x")
    assert refused(lambda: back.extend(earlier, today=TODAY)).code == "extension_not_later"
    assert refused(lambda: flagged().extend(ExtendRectification(case_id=CASE, new_due_on=date(2026, 11, 1), reason="x"),
                                            today=TODAY)).code == "not_planned"


def test_overdue_until_rectified():
    assert overdue(planned(), date(2026, 10, 1)) is True
    assert overdue(planned(), date(2026, 9, 30)) is False
    assert overdue(flagged(), date(2027, 1, 1)) is False  # no due date without a plan
    assert overdue(rectified(), date(2027, 1, 1)) is False


# --- follow-up and relapse ---

def test_follow_up_until_uses_the_rule_table():
    assert follow_up_until(date(2026, 10, 15), NATIONAL_BASELINE) == date(2027, 10, 15)
    longer = NATIONAL_BASELINE.model_copy(update={"follow_up_months": 24})
    assert rectified(rules=longer).follow_up_until == date(2028, 10, 15)


def test_flagged_again_within_the_follow_up_year_is_a_relapse():
    previous = rectified("2025", screened=date(2025, 2, 1), decided=date(2025, 3, 1), due=date(2025, 9, 30),
                         township_on=date(2025, 9, 25), on=date(2025, 10, 15))
    again = flagged("2026", previous=previous, decided=date(2026, 3, 10))
    assert again.relapse_of == "2025.qiaogang-village"
    assert is_relapse(previous, date(2026, 10, 14)) is True
    assert is_relapse(previous, date(2026, 10, 15)) is False
    later = flagged("2027", previous=previous, screened=date(2026, 10, 20), decided=date(2026, 11, 1))
    assert later.relapse_of is None


def test_an_open_previous_case_is_extended_not_flagged_again():
    err = refused(lambda: flagged("2026", previous=planned("2025", screened=date(2025, 2, 1), decided=date(2025, 3, 1),
                                                           due=date(2025, 9, 30))))
    assert (err.status, err.code) == (409, "open_case_exists")


# --- conversion rate ---

def test_conversion_rate_is_rectified_over_listed():
    cases = [rectified()] * 39 + [planned()] * 2  # 41 listed in the 2026 campaign
    assert conversion_rate(cases) == pytest.approx(39 / 41)
    assert round(conversion_rate(cases) * 100) == 95
    assert conversion_rate(cases + [rectified("2025")], campaign="2025") == 1.0
    assert conversion_rate([]) is None
    assert conversion_rate([RectificationCase("2026.nobody")]) is None
