"""Member reminders (issue 12) and the star and coverage rules, pure: probation due and overdue (monthly),
a branch without a development candidate for the county's years, a member away six months unregistered —
each with ids that repeat within a period; stars crossing a boundary, leaving 一类, a member's stars."""
from __future__ import annotations

from datetime import date

from shared.catalog.ratings import StarSlot
from services.notifications.conditions import OrgRow
from services.notifications.member_conditions import AwayRow, BranchRow, ProbationRow, member_conditions
from services.notifications.rules import OrgFacts
from services.notifications.star_rules import coverage_draft, star_drafts
from services.organizations.rules.baseline import NATIONAL_BASELINE
from services.ratings.scheme import StarScheme

COUNTY = "450503"
BRANCH = OrgRow("qiaogang-village", "侨港村党支部", "qiaogang", None, None)
ORGS = {BRANCH.organization_id: BRANCH}


def run(today, probations=(), branches=(), away=(), table=NATIONAL_BASELINE):
    drafts = member_conditions(COUNTY, today, table, ORGS, list(probations), list(branches), list(away))
    return [(d.kind, d.period) for d in drafts], drafts


def test_probation_due_within_30_days_then_overdue_monthly():
    p = ProbationRow("m1", "李明", BRANCH.organization_id, date(2026, 7, 31))
    assert run(date(2026, 6, 30), [p])[0] == []
    [(kind, period)], first = run(date(2026, 7, 1), [p])
    assert (kind, period) == ("probation_due", "2026-07-31")
    assert first[0].township_id == "qiaogang" and "李明" in first[0].title and "侨港村党支部" in first[0].summary
    assert run(date(2026, 7, 20), [p])[1][0].notification_id == first[0].notification_id  # the same reminder
    assert run(date(2026, 8, 1), [p])[0] == [("probation_overdue", "2026-07-31+0m")]
    assert run(date(2026, 9, 1), [p])[0] == [("probation_overdue", "2026-07-31+1m")]
    extended = ProbationRow("m1", "李明", BRANCH.organization_id, date(2027, 1, 31))
    assert run(date(2027, 1, 5), [extended])[0] == [("probation_due", "2027-01-31")]  # an extension reminds again


def test_branch_without_candidate_for_the_countys_years():
    founded = BranchRow(BRANCH, "branch", date(2020, 3, 1), None)
    assert run(date(2022, 2, 28), branches=[founded])[0] == []
    assert run(date(2022, 3, 1), branches=[founded])[0] == [("branch_no_candidate", "2020-03-01")]
    recent = BranchRow(BRANCH, "branch", date(2020, 3, 1), date(2025, 6, 1))
    assert run(date(2027, 5, 31), branches=[recent])[0] == []
    assert run(date(2027, 6, 1), branches=[recent])[0] == [("branch_no_candidate", "2025-06-01")]
    group = BranchRow(BRANCH, "party_group", date(2020, 3, 1), None)  # holds no members of its own
    assert run(date(2027, 6, 1), branches=[group])[0] == []
    three = NATIONAL_BASELINE.model_copy(update={"development": NATIONAL_BASELINE.development.model_copy(
        update={"no_candidate_years": 3})})
    assert run(date(2027, 6, 1), branches=[recent], table=three)[0] == []


def test_member_away_six_months_and_not_registered():
    a = AwayRow("m2", "王芳", BRANCH.organization_id, date(2026, 1, 15))
    assert run(date(2026, 7, 14), away=[a])[0] == []
    [(kind, period)], drafts = run(date(2026, 7, 15), away=[a])
    assert (kind, period) == ("member_away_unregistered", "2026-01-15") and "王芳" in drafts[0].title


SCHEME = StarScheme(tuple(StarSlot(category=f"c{i}", name=f"星{i}", kind="common", red=6, silver=8, gold=10, earn_at=10)
                          for i in range(10)), class_one_min_stars=8)
ORG = OrgFacts("侨港村党支部", "qiaogang")


def test_organization_crossing_a_star_boundary_and_leaving_class_one():
    eight = {f"c{i}": 10 for i in range(8)}
    drafts = star_drafts(COUNTY, "organization", "o1", "侨港村党支部", ORG, "o1", 2026, SCHEME,
                         {**eight, "c7": 9}, eight, date(2026, 6, 1), "e1")
    assert [(d.kind, d.severity) for d in drafts] == [("organization_star_changed", "info")]
    assert drafts[0].title == "侨港村党支部2026年度星级升至8星"
    down = star_drafts(COUNTY, "organization", "o1", "侨港村党支部", ORG, "o1", 2026, SCHEME, eight,
                       {**eight, "c0": 4}, date(2026, 6, 2), "e2")
    assert [d.kind for d in down] == ["organization_star_changed", "organization_left_class_one"]
    assert star_drafts(COUNTY, "organization", "o1", "x", ORG, "o1", 2026, SCHEME, {"c0": 3}, {"c0": 9},
                       date(2026, 6, 3), "e3") == []  # points, but no star boundary crossed


def test_member_star_and_coverage_drafts():
    [d] = star_drafts(COUNTY, "member", "m1", "李明", ORG, "o1", 2026, SCHEME, {}, {"c0": 10}, date(2026, 6, 1), "e4")
    assert d.kind == "member_star_changed" and d.organization_id == "o1" and d.township_id == "qiaogang"
    c = coverage_draft(COUNTY, "org_coverage", "非公企业党组织覆盖率100%", 1.0, 0.95, 20, 19, date(2026, 6, 1), "e5")
    assert c.kind == "coverage_below_target" and "95.0%" in c.title and "19/20" in c.summary
