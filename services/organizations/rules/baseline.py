"""The national baseline rule table (DESIGN.md §3) and which version is in force on a date.

A county adopts its own version with `RulesAdopted`; until then (and before its effective date)
the baseline applies. Severity: "must" rules refuse a command; "generally" (一般) rules let it
through with a recorded warning.
"""
from __future__ import annotations

from datetime import date

from shared.catalog.rules import (CoverageScope, CoverageTarget, RuleTable, SettingRule, TermRule,  # noqa: F401
                                  WeakReason)

NATIONAL_BASELINE = RuleTable(
    setting=(
        SettingRule(code="own_branch_min_full_members", threshold=3, severity="must",
                    description="正式党员3人以上的单位单独成立党支部 / a unit needs ≥3 full members for its own branch"),
        SettingRule(code="committee_min_full_members", threshold=7, severity="must",
                    description="正式党员7人以上的党支部设立支部委员会 / a branch committee needs ≥7 full members"),
        SettingRule(code="joint_branch_max_units", threshold=5, severity="generally",
                    description="联合党支部覆盖单位一般不超过5个 / a joint branch generally covers ≤5 units"),
        SettingRule(code="branch_max_members", threshold=50, severity="generally",
                    description="党支部党员一般不超过50人 / a branch generally has ≤50 members"),
        SettingRule(code="general_branch_min_members", threshold=50, severity="generally",
                    description="党员50人以上可设党总支 / a general branch generally has >50 members"),
        SettingRule(code="primary_committee_min_members", threshold=100, severity="generally",
                    description="党员100人以上可设基层党委 / a grassroots committee generally has ≥100 members"),
    ),
    terms=(
        TermRule(organization_types=("branch", "joint_branch", "general_branch"),
                 host_unit_types=("village", "community"), years=5),
        TermRule(organization_types=("primary_committee",), host_unit_types=("village", "community"), years=5),
        TermRule(organization_types=("primary_committee",), years=5),
        TermRule(organization_types=("branch", "joint_branch", "general_branch"), years=3),
    ),
    weak_reasons=(
        WeakReason(code="committee_incomplete", name="班子不健全、书记长期缺职、工作处于停滞状态"),
        WeakReason(code="secretary_unfit", name="书记不胜任现职、工作不在状态、严重影响班子整体战斗力"),
        WeakReason(code="committee_disunited", name="班子不团结、内耗严重、工作不能正常开展"),
        WeakReason(code="rules_a_formality", name="组织制度形同虚设、不开展组织活动"),
        WeakReason(code="affairs_in_disorder", name="村务财务公开和民主管理混乱"),
        WeakReason(code="outside_interference", name="宗族宗教和黑恶势力干扰渗透严重"),
        WeakReason(code="security_petitions", name="社会治安问题和信访矛盾集中"),
        WeakReason(code="weak_service", name="服务意识差、服务能力弱、群众意见较大"),
        WeakReason(code="secretary_vacant_3_months", name="书记空缺3个月以上", local=True),
        WeakReason(code="no_candidates_2_years", name="连续2年以上未发展党员", local=True),
        WeakReason(code="satisfaction_below_60", name="群众满意度低于60%", local=True),
        WeakReason(code="last_in_assessment", name="年度考核排名末位", local=True),
        WeakReason(code="election_overdue", name="未按期完成换届", local=True),
    ),
    targets=(
        CoverageTarget(code="enterprises_organized", name="符合条件的非公企业党组织覆盖100%",
                       kind="organization_coverage"),
        CoverageTarget(code="social_orgs_organized", name="符合条件的社会组织党组织覆盖100%",
                       kind="social_organization_coverage"),
        CoverageTarget(code="instructors_for_unorganized", name="未建党组织的选派党建指导员100%",
                       kind="instructor_for_unorganized"),
        CoverageTarget(code="mass_orgs_for_organized", name="已建党组织的同步建立工青妇组织100%",
                       kind="mass_organizations_for_organized"),
        CoverageTarget(code="enterprises_30_plus", name="正常经营的30人以上企业全部建立党组织",
                       kind="organized_above_employees", threshold=30),
    ),
)


def table_in_force(versions: list[RuleTable], on: date) -> RuleTable:
    """The latest version effective on `on`; the national baseline before any adopted version."""
    current = NATIONAL_BASELINE
    for table in sorted(versions, key=lambda t: t.effective_from):
        if table.effective_from <= on:
            current = table
    return current
