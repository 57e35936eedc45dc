"""Classification (分类定级): item set by host unit, programme by grade, corrections, 晋位升级 over years."""
from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from services.organizations.campaigns.commands import ClassifyOrganization
from services.organizations.campaigns.domain import (
    FIVE_GOODS, TWO_STRONGS_SIX_GOODS, Classification, item_set_for,
)
from services.organizations.registry.domain import Organization
from shared.catalog import CATALOG
from tests.unit.domain_support import established as org, folded, refused

TODAY = date(2026, 1, 20)


def all_met(item_set: dict[str, str], **unmet: bool) -> dict[str, bool]:
    return {code: unmet.get(code, True) for code in item_set}


def classify_cmd(year: int = 2025, grade: str = "advanced", items=None, note=None, on=date(2026, 1, 15),
                 organization_id: str = "qiaogang-village"):
    return ClassifyOrganization(organization_id=organization_id, year=year, grade=grade, note=note, classified_on=on,
                                items=items if items is not None else all_met(FIVE_GOODS))


def classified(organization: Organization, *cmds: ClassifyOrganization) -> Classification:
    c = Classification(organization.id)
    for cmd in cmds:
        folded(c, c.classify(cmd, organization=organization, today=TODAY))
    return c


def test_event_is_on_the_classification_subject_keyed_by_organization():
    assert (CATALOG["OrganizationClassified"].context, CATALOG["OrganizationClassified"].aggregate_type) == \
        ("org", "classification")
    [ev] = Classification("qiaogang-village").classify(classify_cmd(), organization=org(), today=TODAY)
    assert (ev.organization_id, ev.year, ev.item_set) == ("qiaogang-village", 2025, "five_goods")


@pytest.mark.parametrize("grade, programme", [("advanced", "showcase"), ("average", "improve"),
                                               ("lagging", "remedy")])
def test_programme_follows_the_grade(grade, programme):
    items = all_met(FIVE_GOODS, good_performance=grade == "advanced")
    [ev] = Classification("qiaogang-village").classify(classify_cmd(grade=grade, items=items), organization=org(),
                                                       today=TODAY)
    assert (ev.grade, ev.programme, ev.items["good_performance"]) == (grade, programme, grade == "advanced")


@pytest.mark.parametrize("host, item_set", [
    ("village", "five_goods"), ("community", "five_goods"), ("school", "five_goods"),
    ("state_enterprise", "five_goods"), ("private_enterprise", "two_strongs_six_goods"),
    ("social_organization", "two_strongs_six_goods"),
])
def test_item_set_follows_the_host_unit(host, item_set):
    assert item_set_for(host) == item_set


def test_enterprise_branch_is_judged_against_two_strongs_six_goods():
    haixian = org("haixian-seafood", host="private_enterprise")
    [ev] = Classification(haixian.id).classify(classify_cmd(items=all_met(TWO_STRONGS_SIX_GOODS), organization_id=haixian.id),
                                               organization=haixian, today=TODAY)
    assert ev.item_set == "two_strongs_six_goods" and set(ev.items) == set(TWO_STRONGS_SIX_GOODS)
    assert len(TWO_STRONGS_SIX_GOODS) == 8 and TWO_STRONGS_SIX_GOODS["good_public_evaluation"] == "群众评价好"


def test_items_must_be_exactly_the_set():
    c = Classification("qiaogang-village")
    err = refused(lambda: c.classify(classify_cmd(items=all_met(TWO_STRONGS_SIX_GOODS)), organization=org(),
                                     today=TODAY))
    assert (err.status, err.code, err.errors[0].field) == (422, "items_do_not_match_set", "items")
    assert "good_leadership" in err.detail and "领导班子好" in err.detail
    missing = {k: v for k, v in all_met(FIVE_GOODS).items() if k != "good_public_response"}
    err = refused(lambda: c.classify(classify_cmd(items=missing), organization=org(), today=TODAY))
    assert "good_public_response" in err.detail


def test_reclassifying_a_year_is_a_correction_that_needs_a_note():
    c = classified(org(), classify_cmd(grade="average"))
    err = refused(lambda: c.classify(classify_cmd(grade="advanced"), organization=org(), today=TODAY))
    assert (err.status, err.code, err.errors[0].field) == (422, "correction_needs_note", "note")
    folded(c, c.classify(classify_cmd(grade="advanced", note="复核后更正：群众满意度测评漏计"), organization=org(),
                         today=TODAY))
    assert (c.grade(2025), c.corrections[2025], c.by_year[2025].note) == ("advanced", 1, "复核后更正：群众满意度测评漏计")


def test_history_shows_promotion_and_demotion_over_years():
    o = org()
    c = classified(o, classify_cmd(2021, "lagging", on=date(2022, 1, 10)),
                   classify_cmd(2022, "average", on=date(2023, 1, 10)),
                   classify_cmd(2023, "average", on=date(2024, 1, 10)),
                   classify_cmd(2025, "advanced"),  # 2024 not classified: compared with 2023
                   classify_cmd(2024, "lagging", on=date(2025, 1, 10)))
    assert c.history() == [(2021, "lagging", None), (2022, "average", "promoted"), (2023, "average", "unchanged"),
                           (2024, "lagging", "demoted"), (2025, "advanced", "promoted")]
    assert c.grade(2020) is None


def test_dates_and_organization_checks():
    c = Classification("qiaogang-village")
    assert refused(lambda: c.classify(classify_cmd(on=date(2026, 2, 1)), organization=org(), today=TODAY)).code \
        == "classified_on_in_future"
    assert refused(lambda: c.classify(classify_cmd(year=2026, on=date(2025, 12, 31)), organization=org(),
                                      today=TODAY)).code == "classified_before_year"
    err = refused(lambda: c.classify(classify_cmd(), organization=Organization("qiaogang-village"), today=TODAY))
    assert (err.status, err.code) == (404, "organization_not_found")
    group = org("qiaogang-group-1", org_type="party_group")
    assert refused(lambda: Classification(group.id).classify(classify_cmd(organization_id=group.id), organization=group, today=TODAY)).code \
        == "party_group_not_classified"


def test_grade_is_a_closed_list():
    with pytest.raises(ValidationError):
        classify_cmd(grade="excellent")
