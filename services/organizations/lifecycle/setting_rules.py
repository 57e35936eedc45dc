"""Named invariants of an organization's life: its state (exists, not dissolved/merged, approval
dates) and the organization-setting rules (组织设置) applied through the county's rule table.

Why one helper decides refuse-or-warn for setting rules: the same threshold is "must" in one county
and "generally" (一般) in another, so the code never hard-wires the outcome; it asks the rule's
severity. A refusal's error code is the rule code, so clients and the rule table speak one name.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date

from services.organizations.registry.domain import Organization, check_not_future
from shared.catalog.lifecycle import CommitteeSeat
from shared.catalog.rules import RuleTable
from shared.errors import conflict, invalid, not_found

UPGRADE_LADDER = ("branch", "general_branch", "primary_committee")

# 《中国共产党基层组织选举工作条例》: 基层党委委员一般5至9人, 总支委员会一般5至7人, 支部委员会一般3至5人.
# "一般", so outside the range is a warning, never a refusal.
COMMITTEE_SIZE: dict[str, tuple[int, int]] = {
    "branch": (3, 5), "joint_branch": (3, 5), "general_branch": (5, 7), "primary_committee": (5, 9),
}


def rule_outcome(rules: RuleTable, code: str, ok: bool, detail: str, field: str) -> list[str]:
    """[] when the rule holds; a refusal for a broken "must" rule; [detail] for a "generally" one."""
    if ok:
        return []
    if rules.setting_rule(code).severity == "must":
        raise invalid(code, field, detail)
    return [detail]


def check_own_branch_min_full_members(full_members: int, rules: RuleTable) -> list[str]:
    rule = rules.setting_rule("own_branch_min_full_members")
    return rule_outcome(rules, rule.code, full_members >= rule.threshold,
                        f"正式党员{full_members}人，不足{rule.threshold}人，应参加联合党支部 / "
                        f"{full_members} full members, fewer than {rule.threshold}: join a joint branch "
                        f"（{rule.description}）", "full_members")


def check_branch_max_members(members: int, rules: RuleTable) -> list[str]:
    rule = rules.setting_rule("branch_max_members")
    return rule_outcome(rules, rule.code, members <= rule.threshold,
                        f"党员{members}人，超过{rule.threshold}人，可考虑设立党总支 / "
                        f"{members} members, more than {rule.threshold}: consider a general branch "
                        f"（{rule.description}）", "members")


def check_joint_branch_max_units(units: int, rules: RuleTable) -> list[str]:
    rule = rules.setting_rule("joint_branch_max_units")
    return rule_outcome(rules, rule.code, units <= rule.threshold,
                        f"联合党支部覆盖{units}个单位，超过{rule.threshold}个 / "
                        f"joint branch covers {units} units, more than {rule.threshold} （{rule.description}）",
                        "units")


def check_general_branch_min_members(members: int, rules: RuleTable) -> list[str]:
    rule = rules.setting_rule("general_branch_min_members")
    return rule_outcome(rules, rule.code, members > rule.threshold,
                        f"党员{members}人，未超过{rule.threshold}人，不宜设立党总支 / "
                        f"{members} members, not more than {rule.threshold}, for a general branch "
                        f"（{rule.description}）", "member_count")


def check_primary_committee_min_members(members: int, rules: RuleTable) -> list[str]:
    rule = rules.setting_rule("primary_committee_min_members")
    return rule_outcome(rules, rule.code, members >= rule.threshold,
                        f"党员{members}人，不足{rule.threshold}人，不宜设立基层党委 / "
                        f"{members} members, fewer than {rule.threshold}, for a primary committee "
                        f"（{rule.description}）", "member_count")


def check_committee_needs_seven_full_members(full_members: int, rules: RuleTable) -> list[str]:
    """A committee needs the table's threshold of full members (7 in the baseline); probationary
    members do not count. Fewer: a secretary only (and, if needed, a deputy)."""
    rule = rules.setting_rule("committee_min_full_members")
    return rule_outcome(rules, rule.code, full_members >= rule.threshold,
                        f"正式党员{full_members}人，不足{rule.threshold}人，只设书记（必要时设副书记），不设委员会 / "
                        f"{full_members} full members, fewer than {rule.threshold}: a secretary only, no committee "
                        f"（{rule.description}）", "committee")


def check_committee_size(organization_type: str, people: int) -> list[str]:
    low, high = COMMITTEE_SIZE.get(organization_type, (3, 5))
    if low <= people <= high:
        return []
    return [f"委员会{people}人，一般为{low}至{high}人 / committee of {people}, generally {low} to {high}"]


def check_setting_rules(organization_type: str, *, rules: RuleTable, full_members: int,
                        members: int | None = None, units: int | None = None) -> list[str]:
    """Setting rules for an organization of this type and size (at founding or upgrade): refuses on a
    broken "must" rule, returns the warnings of broken "generally" rules for the caller to record.
    `members` counts probationary members too (defaults to full_members); `units` is for joint branches."""
    members = full_members if members is None else members
    warnings: list[str] = []
    if organization_type in ("branch", "joint_branch"):
        warnings += check_own_branch_min_full_members(full_members, rules)
        warnings += check_branch_max_members(members, rules)
    if organization_type == "joint_branch" and units is not None:
        warnings += check_joint_branch_max_units(units, rules)
    if organization_type == "general_branch":
        warnings += check_general_branch_min_members(members, rules)
    if organization_type == "primary_committee":
        warnings += check_primary_committee_min_members(members, rules)
    return warnings


# --- state invariants: one function per rule -----------------------------------------------------

def check_exists(org: Organization) -> None:
    if not org.exists:
        raise not_found("organization_not_found", f"党组织 {org.id} 不存在于本县 / organization not found in this county")


def check_not_merged(org: Organization, role: str = "organization") -> None:
    if org.status == "merged":
        raise conflict(f"{role}_merged", f"党组织 {org.id} 已并入 {org.merged_into}，不能再变更 / "
                                         f"organization was merged into {org.merged_into}; merged is final")


def check_not_dissolved(org: Organization, role: str = "organization") -> None:
    """Dissolved (or merged, which dissolves) organizations take no changes but restore."""
    check_not_merged(org, role)
    if org.status == "dissolved":
        raise conflict(f"{role}_dissolved", f"党组织 {org.id} 已撤销 / organization {org.id} is dissolved")


def check_changeable(org: Organization, approved_on: date, today: date) -> None:
    check_exists(org)
    check_not_dissolved(org)
    check_approval(approved_on, today)


def check_approval(approved_on: date, today: date) -> None:
    check_not_future(approved_on, today, "approved_on", "批准日期", "approval date")


def check_upgrade_is_upward(from_type: str, to_type: str) -> None:
    if from_type not in UPGRADE_LADDER or to_type not in UPGRADE_LADDER:
        raise invalid("not_upgradable", "to_type", "只有党支部→党总支→基层党委可以升格 / only branch → general "
                                                   "branch → primary committee can be upgraded")
    if UPGRADE_LADDER.index(to_type) <= UPGRADE_LADDER.index(from_type):
        raise invalid("upgrade_not_upward", "to_type", f"升格只能向上（现为 {from_type}） / an upgrade only goes "
                                                       f"upward (currently {from_type})")


def check_not_own_descendant(org_id: str, new_parent_id: str, parent_of: Callable[[str], str | None]) -> None:
    seen: set[str] = set()
    current: str | None = new_parent_id
    while current is not None and current not in seen:
        if current == org_id:
            raise invalid("transfer_into_own_subtree", "to_parent_id",
                          "不能转移到自身或下级党组织之下 / cannot move under itself or its own descendant")
        seen.add(current)
        current = parent_of(current)


def check_holds_elections(org: Organization) -> None:
    if not org.can_hold_members:
        raise invalid("no_election_for_party_group", "organization_id",
                      "党小组不进行委员会选举 / a party group does not elect a committee")


def check_exactly_one_secretary(committee: tuple[CommitteeSeat, ...]) -> None:
    if sum(seat.role == "secretary" for seat in committee) != 1:
        raise invalid("exactly_one_secretary", "committee", "须有且只有一名书记 / exactly one secretary is required")
