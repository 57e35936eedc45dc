"""The development pipeline's rules, pure: order of steps, minimum durations and counts from the rule
table, probation of a member the registry holds without a pipeline, and the rule table's v3 (development
rules) — a stored v2 table keeps its meaning."""
from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from services.organizations.development.commands import (ConfirmMembership, DesignateActivist, DesignateCandidate,
                                                         ExtendProbation, ReceiveApplication)
from services.organizations.development.domain import Applicant, probation_of
from services.organizations.registry.domain import Member
from services.organizations.rules.baseline import NATIONAL_BASELINE
from services.organizations.rules.domain import RuleBook
from shared.catalog.base import decode_event
from shared.catalog.organizations import MemberRegistered
from shared.catalog.rules import DevelopmentRules, RulesAdopted
from tests.unit.domain_support import established, folded, refused

RULES = DevelopmentRules()
TODAY = date(2026, 6, 30)
UPPER = {"approved_by": "中共侨港镇委员会"}


def applicant_with(*steps) -> Applicant:
    huang = Applicant("huang-xiaoyan")
    cmd = ReceiveApplication(name="黄小燕", gender="女", birth_date=date(1998, 3, 8), branch_id="qiaogang-village",
                             applied_on=date(2023, 3, 1), received_by="李卫东")
    folded(huang, huang.receive(cmd, branch=established(), rules=RULES, today=TODAY))
    for step in steps:
        folded(huang, step(huang))
    return huang


def activist(on=date(2023, 6, 1)):
    return lambda a: a.designate_activist(DesignateActivist(applicant_id=a.id, designated_on=on, decided_by="支委会",
                                                            training_contacts=["张秀玲", "李卫东"]),
                                          rules=RULES, today=TODAY)


def test_a_candidate_needs_a_year_as_an_activist_and_steps_follow_each_other():
    huang = applicant_with(activist())
    early = DesignateCandidate(applicant_id=huang.id, designated_on=date(2024, 5, 31), decided_by="支委会")
    assert refused(lambda: huang.designate_candidate(early, rules=RULES, today=TODAY)).code == "activist_too_short"
    ok = DesignateCandidate(applicant_id=huang.id, designated_on=date(2024, 6, 1), decided_by="支委会")
    assert huang.designate_candidate(ok, rules=RULES, today=TODAY)[0].branch_id == "qiaogang-village"
    shorter = DevelopmentRules(activist_min_months=6)  # a county's own table
    assert huang.designate_candidate(early, rules=shorter, today=TODAY)
    assert refused(lambda: applicant_with().designate_candidate(ok, rules=RULES, today=TODAY)).code == "wrong_stage"
    backdated = DesignateActivist(applicant_id=huang.id, designated_on=date(2023, 1, 1), decided_by="支委会",
                                  training_contacts=["张秀玲", "李卫东"])
    assert refused(lambda: applicant_with().designate_activist(backdated, rules=RULES, today=TODAY)).code == \
        "before_previous_step"


def test_training_contacts_count_comes_from_the_rule_table():
    one = DesignateActivist(applicant_id="huang-xiaoyan", designated_on=date(2023, 6, 1), decided_by="支委会",
                            training_contacts=["张秀玲"])
    assert refused(lambda: applicant_with().designate_activist(one, rules=RULES, today=TODAY)).code == \
        "training_contacts_count"
    assert applicant_with().designate_activist(one, rules=DevelopmentRules(training_contacts=1), today=TODAY)
    with pytest.raises(ValidationError):
        DesignateActivist(applicant_id="x", designated_on=date(2023, 6, 1), decided_by="支委会",
                          training_contacts=["张秀玲", "张秀玲"])


def test_an_imported_probationary_member_has_the_rule_tables_probation_and_one_extension():
    zhou = folded(Member("zhou"), [MemberRegistered(member_id="zhou", name="周海燕", gender="female",
                                                    membership_status="probationary", joined_on=date(2025, 8, 31),
                                                    branch_id="qiaogang-village")])
    record = Applicant("zhou")
    assert probation_of(record, zhou, RULES).ends_on == date(2026, 8, 31)
    extend = ExtendProbation(member_id="zhou", branch_meeting_on=TODAY, approved_on=TODAY, months=5, reason="考察",
                             **UPPER)
    assert refused(lambda: record.extend(extend, member=zhou, rules=RULES, today=TODAY)).code == "extension_months"
    decision = record.extend(extend.model_copy(update={"months": 6}), member=zhou, rules=RULES, today=TODAY)
    folded(record, decision.changes[0][1])
    assert probation_of(record, zhou, RULES).ends_on == date(2027, 2, 28)  # clamped to the month's end
    again = extend.model_copy(update={"months": 6})
    assert refused(lambda: record.extend(again, member=zhou, rules=RULES, today=TODAY)).code == \
        "probation_already_extended"
    confirm = ConfirmMembership(member_id="zhou", branch_meeting_on=TODAY, approved_on=TODAY, **UPPER)
    assert refused(lambda: record.confirm(confirm, member=zhou, rules=RULES, today=TODAY)).code == "probation_not_over"


def test_rule_table_v3_upcasts_a_stored_v2_table_and_checks_the_screening_reason():
    stored_v2 = RulesAdopted(table=NATIONAL_BASELINE).model_dump(mode="json")
    del stored_v2["table"]["development"], stored_v2["table"]["mobile"]
    table = decode_event("RulesAdopted", 2, stored_v2).table
    assert table.development == DevelopmentRules()
    unlisted = NATIONAL_BASELINE.model_copy(update={
        "weak_reasons": tuple(r for r in NATIONAL_BASELINE.weak_reasons if r.code != "no_candidates_2_years")})
    assert refused(lambda: RuleBook("450503").adopt(unlisted)).code == "screening_reason_not_listed"
    with pytest.raises(ValidationError):
        DevelopmentRules(extension_min_months=12, extension_max_months=6)
