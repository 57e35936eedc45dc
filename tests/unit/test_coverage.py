"""Coverage figures of 两新组织, checked against a small county worked out by hand, and as of past dates."""
from __future__ import annotations

from datetime import date

import pytest

from services.organizations.enterprises.coverage import coverage, in_scope, size_band
from services.organizations.enterprises.commands import FoundEnterpriseBranch
from services.organizations.enterprises.domain import Enterprise, EnterpriseState, fold_as_of
from services.organizations.enterprises.founding import found_branch
from services.organizations.rules.baseline import NATIONAL_BASELINE
from shared.catalog.enterprises import (
    EnterpriseClosed, EnterpriseHeadcountUpdated, EnterpriseRegistered, EnterpriseReopened, InstructorAssigned,
    InstructorWithdrawn, MassOrganizationEstablished,
)
from shared.catalog.organizations import TownshipAdded
from shared.catalog.base import decode_event
from shared.catalog.rules import CoverageScope, CoverageTarget, QualifyingRule, RulesAdopted

ALL3 = ("trade_union", "youth_league", "womens_federation")


def unit(eid, township, industry, employees, full=0, *, unit_type="private_enterprise", status="operating",
         fixed=True, org=None, mode=None, instructor=None, mass=()) -> EnterpriseState:
    return EnterpriseState(eid, f"USCC-{eid}", f"{eid} 单位", unit_type, township, industry, employees, full, 0, status,
                           fixed, False, date(2019, 1, 1), org, mode, instructor, frozenset(mass))


# 银海区 (450503): 侨港镇 (qiaogang) is organized, 银滩镇 (yintan) relies on work coverage.
COUNTY = [
    unit("A", "qiaogang", "制造业", 86, 4, org="o-a", mode="standalone", mass=ALL3),         # 北海市某海产品加工有限公司
    unit("B", "qiaogang", "制造业", 25, 1, org="o-joint", mode="joint", mass=("trade_union",)),
    unit("C", "qiaogang", "制造业", 12, 0, org="o-joint", mode="joint"),
    unit("D", "yintan", "住宿和餐饮业", 40, 3, instructor=("黄丽", "liaison")),
    unit("E", "yintan", "住宿和餐饮业", 15, 0, mass=("youth_league",)),
    unit("F", "yintan", "交通运输、仓储和邮政业", 120, 5, mass=("womens_federation",)),  # 妇联 is not work coverage
    unit("G", "qiaogang", "批发和零售业", 8),                                                  # < 10 employees
    unit("H", "qiaogang", "制造业", 50, fixed=False),                                         # no fixed premises
    unit("I", "yintan", "制造业", 200, status="suspended"),                                   # 停产
    unit("J", "qiaogang", "农、林、牧、渔业", 35, 3, unit_type="social_organization", org="o-j", mode="standalone",
         mass=("trade_union", "youth_league")),                                               # 侨港镇渔业协会
    unit("K", "yintan", "居民服务、修理和其他服务业", 20, unit_type="social_organization"),    # < 30 staff
    unit("L", "yintan", "社会工作", 30, 2, unit_type="social_organization", instructor=("陈海生", "instructor")),
]

# (dimension, key): in_scope, standalone, joint, organized, org rate, standalone rate,
#                   unorganized, work_covered, work rate, mass complete, mass rate
EXPECTED = {
    ("county", "450503"): (8, 2, 2, 4, 0.5, 0.25, 4, 3, 0.75, 1, 0.25),
    ("township", "qiaogang"): (4, 2, 2, 4, 1.0, 0.5, 0, 0, None, 1, 0.25),
    ("township", "yintan"): (4, 0, 0, 0, 0.0, 0.0, 4, 3, 0.75, 0, None),
    ("industry", "制造业"): (3, 1, 2, 3, 1.0, 0.3333, 0, 0, None, 1, 0.3333),
    ("industry", "住宿和餐饮业"): (2, 0, 0, 0, 0.0, 0.0, 2, 2, 1.0, 0, None),
    ("industry", "交通运输、仓储和邮政业"): (1, 0, 0, 0, 0.0, 0.0, 1, 0, 0.0, 0, None),
    ("industry", "批发和零售业"): (0, 0, 0, 0, None, None, 0, 0, None, 0, None),
    ("industry", "农、林、牧、渔业"): (1, 1, 0, 1, 1.0, 1.0, 0, 0, None, 0, 0.0),
    ("industry", "居民服务、修理和其他服务业"): (0, 0, 0, 0, None, None, 0, 0, None, 0, None),
    ("industry", "社会工作"): (1, 0, 0, 0, 0.0, 0.0, 1, 1, 1.0, 0, None),
    ("size_band", "<10"): (0, 0, 0, 0, None, None, 0, 0, None, 0, None),
    ("size_band", "10-29"): (3, 0, 2, 2, 0.6667, 0.0, 1, 1, 1.0, 0, 0.0),
    ("size_band", "30-99"): (4, 2, 0, 2, 0.5, 0.5, 2, 2, 1.0, 1, 0.5),
    ("size_band", "100+"): (1, 0, 0, 0, 0.0, 0.0, 1, 0, 0.0, 0, None),
    ("unit_type", "private_enterprise"): (6, 1, 2, 3, 0.5, 0.1667, 3, 2, 0.6667, 1, 0.3333),
    ("unit_type", "social_organization"): (2, 1, 0, 1, 0.5, 0.5, 1, 1, 1.0, 0, 0.0),
}


def figures(row):
    return (row.in_scope, row.standalone, row.joint, row.organized, row.organization_coverage_rate,
            row.standalone_rate, row.unorganized, row.work_covered, row.work_coverage_rate, row.mass_orgs_complete,
            row.mass_org_rate)


def test_scope_and_size_bands():
    scope = CoverageScope()
    assert [u.enterprise_id for u in COUNTY if in_scope(u, scope)] == list("ABCDEFJL")
    assert in_scope(COUNTY[7], CoverageScope(require_fixed_premises=False))
    assert [size_band(n) for n in (0, 9, 10, 29, 30, 99, 100)] == ["<10", "<10", "10-29", "10-29", "30-99", "30-99",
                                                                   "100+"]


def test_every_row_against_the_hand_count():
    report = coverage(COUNTY, NATIONAL_BASELINE, county="450503")
    got = {(r.dimension, r.key): figures(r) for r in report.rows}
    assert got == EXPECTED
    assert [r.dimension for r in report.rows][:3] == ["county", "township", "township"]
    assert [r.key for r in report.rows if r.dimension == "size_band"] == ["<10", "10-29", "30-99", "100+"]
    assert report.row("township", "yintan").work_coverage_rate == 0.75


def test_targets_and_shortfalls():
    report = coverage({u.enterprise_id: u for u in COUNTY}, NATIONAL_BASELINE)
    got = {t.code: (t.population, t.satisfied, t.achieved, t.met, {u.enterprise_id for u in t.shortfall})
           for t in report.targets}
    assert got == {
        "enterprises_organized": (6, 3, 0.5, False, {"D", "E", "F"}),
        "social_orgs_organized": (2, 1, 0.5, False, {"L"}),
        "instructors_for_unorganized": (4, 2, 0.5, False, {"E", "F"}),
        "mass_orgs_for_organized": (4, 1, 0.25, False, {"B", "C", "J"}),
        "enterprises_30_plus": (4, 1, 0.25, False, {"D", "F", "H"}),  # H counts: no premises, still 30+
    }
    mass = next(t for t in report.targets if t.code == "mass_orgs_for_organized")
    reasons = {u.enterprise_id: u.reason for u in mass.shortfall}
    assert reasons["B"].startswith("缺少共青团、妇联") and reasons["J"].startswith("缺少妇联")
    assert [(u.enterprise_id, u.township_id) for u in mass.shortfall] == [("B", "qiaogang"), ("C", "qiaogang"),
                                                                          ("J", "qiaogang")]
    assert [u.enterprise_id for u in report.members_without_organization] == ["D", "F"]
    assert "正式党员3名" in report.members_without_organization[0].reason
    assert [u.enterprise_id for u in report.no_organization_no_instructor] == ["E", "F"]


def test_configured_targets_and_scope():
    rules = NATIONAL_BASELINE.model_copy(update={
        "coverage": CoverageScope(require_fixed_premises=False, enterprise_min_employees=20),
        "targets": (CoverageTarget(code="half_organized", name="党组织覆盖过半", kind="organization_coverage", rate=0.5),
                    CoverageTarget(code="above_100", name="百人以上企业全覆盖", kind="organized_above_employees",
                                   threshold=100),
                    CoverageTarget(code="default_threshold", name="规上", kind="organized_above_employees")),
    })
    report = coverage(COUNTY, rules)
    half, above, default = report.targets
    # in scope now: A, B, D, F, H (≥20 employees, premises not required) -> organized A, B
    assert (half.population, half.satisfied, half.achieved, half.met) == (5, 2, 0.4, False)
    assert (above.population, above.satisfied, above.met, [u.enterprise_id for u in above.shortfall]) == (
        1, 0, False, ["F"])
    assert default.population == 5  # threshold falls back to enterprise_min_employees
    empty = coverage([], rules)
    assert empty.rows == [] and all(t.met and t.achieved is None for t in empty.targets)
    met = coverage(COUNTY[:3], rules).targets[0]
    assert (met.achieved, met.met, met.shortfall) == (1.0, True, [])


# --- qualifying units (符合组建条件): the rule table says which units must be organized ---

def targets_with(qualifying: QualifyingRule) -> dict[str, tuple]:
    report = coverage(COUNTY, NATIONAL_BASELINE.model_copy(update={"qualifying": qualifying}))
    return {t.code: (t.population, t.satisfied, {u.enterprise_id for u in t.shortfall}) for t in report.targets
            if t.code in ("enterprises_organized", "social_orgs_organized", "instructors_for_unorganized")}


def test_units_with_three_full_members_qualify():
    assert targets_with(QualifyingRule(min_full_members=3)) == {
        "enterprises_organized": (3, 1, {"D", "F"}),       # A, D, F; B (1 member), E, C, H do not qualify
        "social_orgs_organized": (1, 1, set()),            # J; L has 2 members
        "instructors_for_unorganized": (4, 2, {"E", "F"}),  # in scope or qualifying, unorganized: D E F L
    }


def test_units_with_thirty_employees_qualify_premises_or_not():
    assert targets_with(QualifyingRule(min_employees=30)) == {
        "enterprises_organized": (4, 1, {"D", "F", "H"}),  # H: 50 employees, no premises; I (停产) never qualifies
        "social_orgs_organized": (2, 1, {"L"}),
        "instructors_for_unorganized": (5, 2, {"E", "F", "H"}),  # H qualifies, so it needs an instructor too
    }


def test_a_unit_meeting_any_criterion_qualifies():
    got = targets_with(QualifyingRule(min_full_members=4, min_employees=45))
    assert got["enterprises_organized"] == (3, 1, {"F", "H"})  # A (4 members), F (5), H (50 employees); not D


def test_without_criteria_every_in_scope_unit_qualifies_as_before_version_2():
    assert NATIONAL_BASELINE.qualifying.every_in_scope_unit
    assert targets_with(QualifyingRule()) == {
        "enterprises_organized": (6, 3, {"D", "E", "F"}), "social_orgs_organized": (2, 1, {"L"}),
        "instructors_for_unorganized": (4, 2, {"E", "F"})}
    stored_v1 = RulesAdopted(table=NATIONAL_BASELINE).model_dump(mode="json")
    del stored_v1["table"]["qualifying"]  # as adopted before version 2
    upcast = decode_event("RulesAdopted", 1, stored_v1)
    assert upcast.table.qualifying.every_in_scope_unit
    assert coverage(COUNTY, upcast.table) == coverage(COUNTY, NATIONAL_BASELINE)


# --- as of a past date, from the log ---

def registered(eid, employees, full, on, **kw):
    return EnterpriseRegistered(enterprise_id=eid, uscc=f"USCC{eid}", name=kw.pop("name", f"{eid} 公司"),
                                unit_type="private_enterprise", township_id="qiaogang", industry="制造业",
                                employees=employees, full_members=full, probationary_members=0,
                                operating_status="operating", fixed_premises=True, above_scale=False,
                                registered_on=on)


@pytest.fixture
def log():
    seafood = Enterprise("seafood")
    seafood.apply(registered("seafood", 86, 4, date(2019, 3, 1), name="北海市某海产品加工有限公司"))
    founding = FoundEnterpriseBranch(enterprise_ids=["seafood"], founding_mode="standalone",
                                     organization_name="北海市某海产品加工有限公司党支部", approved_by="中共侨港镇委员会",
                                     approved_on=date(2024, 6, 20), founded_on=date(2024, 7, 1))
    founded, _ = found_branch(founding, [seafood], NATIONAL_BASELINE, "org-seafood", date(2025, 6, 30))
    return [
        TownshipAdded(township_id="qiaogang", name="侨港镇"),  # other events are ignored
        registered("seafood", 86, 4, date(2019, 3, 1), name="北海市某海产品加工有限公司"),
        registered("nets", 8, 0, date(2020, 1, 1)),
        InstructorAssigned(enterprise_id="nets", person_name="陈海生", role="instructor", assigned_on=date(2023, 5, 1)),
        *founded,  # (enterprise_id, event) pairs
        EnterpriseHeadcountUpdated(enterprise_id="nets", employees=12, full_members=1, probationary_members=0,
                                   effective_on=date(2024, 1, 1)),
        EnterpriseClosed(enterprise_id="nets", status="suspended", closed_on=date(2024, 8, 1), reason="休渔期"),
        EnterpriseReopened(enterprise_id="nets", reopened_on=date(2024, 9, 16), reason="开海"),
        MassOrganizationEstablished(enterprise_id="seafood", kind="trade_union", established_on=date(2024, 9, 1)),
        InstructorWithdrawn(enterprise_id="nets", withdrawn_on=date(2024, 12, 31)),
        registered("late", 50, 0, date(2025, 3, 1)),
        # recorded late, effective earlier: counts from its business date
        MassOrganizationEstablished(enterprise_id="seafood", kind="youth_league", established_on=date(2024, 7, 15)),
    ]


def county_row(log, on):
    return coverage(fold_as_of(log, on), NATIONAL_BASELINE).row("county", "all")


def test_fold_as_of_dates(log):
    assert fold_as_of(log, date(2019, 2, 28)) == {}
    early = fold_as_of(log, date(2023, 6, 1))
    assert set(early) == {"seafood", "nets"} and early["nets"].instructor == ("陈海生", "instructor")
    assert early["nets"].employees == 8 and early["seafood"].organization_id is None
    mid = fold_as_of(log, date(2024, 8, 15))
    assert mid["nets"].status == "suspended" and mid["seafood"].founding_mode == "standalone"
    assert mid["seafood"].mass_organizations == {"youth_league"}
    now = fold_as_of(log, date(2025, 6, 30))
    assert now["nets"].status == "operating" and now["nets"].instructor is None
    assert now["seafood"].mass_organizations == {"trade_union", "youth_league"} and "late" in now


def test_coverage_as_of(log):
    assert figures(county_row(log, date(2023, 6, 1)))[:5] == (1, 0, 0, 0, 0.0)  # nets has 8 employees
    assert figures(county_row(log, date(2024, 6, 30))) == (2, 0, 0, 0, 0.0, 0.0, 2, 1, 0.5, 0, None)
    assert figures(county_row(log, date(2024, 7, 1))) == (2, 1, 0, 1, 0.5, 0.5, 1, 1, 1.0, 0, 0.0)
    assert county_row(log, date(2024, 8, 15)).in_scope == 1  # nets stopped for the fishing moratorium
    assert figures(county_row(log, date(2025, 6, 30))) == (3, 1, 0, 1, 0.3333, 0.3333, 2, 0, 0.0, 0, 0.0)
