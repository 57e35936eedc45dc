"""Founding a Party organization in 两新组织 (单独组建 / 联合组建 / 行业统建 / 区域联建 / 楼宇共建).

One organization may cover several units, each its own aggregate, so this is a pure decision over
all of them and the new organization: `found_organization` establishes the organization (its type
follows the founding mode) and records one `EnterpriseBranchFounded` on every covered unit's own
subject, all in one atomic batch; `found_branch` is the units' part, with the warnings of
"generally" rules. The caller chooses `organization_id`.
"""
from __future__ import annotations

from datetime import date

from shared.aggregate import Decision
from shared.catalog.base import DomainEvent
from shared.catalog.enterprises import EnterpriseBranchFounded
from shared.catalog.organizations import OrganizationEstablished
from shared.catalog.rules import RuleTable, SettingRule
from shared.errors import conflict, invalid, not_found

from services.organizations.enterprises.commands import BranchFounded, FoundEnterpriseBranch
from services.organizations.enterprises.domain import Enterprise
from services.organizations.registry.domain import Organization, check_not_future

JOINT_MODES = frozenset({"joint", "industry", "area", "building"})


def founded_organization_type(founding_mode: str) -> str:
    """单独组建 founds a 党支部 of the unit; every joint mode (联合、行业、区域、楼宇) a 联合党支部."""
    return "joint_branch" if founding_mode in JOINT_MODES else "branch"


def found_organization(cmd: FoundEnterpriseBranch, units: list[Enterprise], organization: Organization,
                       rules: RuleTable, today: date) -> Decision:
    """The new organization (`organization`: its not yet existing aggregate) and every covered unit's
    founding, decided together. It is hosted by the first unit listed, in that unit's township."""
    if organization.exists:
        raise conflict("organization_exists", f"党组织 {organization.id} 已存在 / organization exists")
    pairs, warnings = found_branch(cmd, units, rules, organization.id, today)
    first = next(u for u in units if u.id == cmd.enterprise_ids[0])
    decision = Decision().add(organization, [OrganizationEstablished(
        organization_id=organization.id, name=cmd.organization_name,
        organization_type=founded_organization_type(cmd.founding_mode), host_unit_type=first.unit_type,
        township_id=first.township_id, approved_by=cmd.approved_by, approved_on=cmd.approved_on)])
    by_id = {u.id: u for u in units}
    for enterprise_id, event in pairs:
        decision.add(by_id[enterprise_id], [event])
    decision.answer = BranchFounded(organization_id=organization.id, enterprise_ids=list(cmd.enterprise_ids),
                                    warnings=warnings)
    return decision


def found_branch(cmd: FoundEnterpriseBranch, enterprises: list[Enterprise], rules: RuleTable,
                 organization_id: str, today: date) -> tuple[list[tuple[str, DomainEvent]], list[str]]:
    """(enterprise_id, event) for every covered unit, plus warnings; `enterprises` are the loaded
    aggregates of cmd.enterprise_ids (absent or unregistered ones are refused as not found)."""
    units = check_units_exist(cmd.enterprise_ids, enterprises)
    warnings: list[str] = []
    check_not_future(cmd.approved_on, today, "approved_on", "批准日期", "approval date")
    check_not_future(cmd.founded_on, today, "founded_on", "成立日期", "founding date")
    if cmd.founded_on < cmd.approved_on:
        raise invalid("founded_before_approval", "founded_on",
                      "成立日期早于上级批准日期 / the organization cannot be founded before it was approved")
    for unit in units:
        check_operating(unit)
        check_not_yet_organized(unit)
        if unit.registered_on is not None and cmd.founded_on < unit.registered_on:
            raise invalid("founded_before_registration", "founded_on",
                          f"成立日期早于单位“{unit.name}”的登记日期（{unit.registered_on}） / "
                          f"founding date is before the unit was registered")
    if cmd.founding_mode == "standalone":
        check_standalone_has_three_full_members(units, rules, warnings)
    else:
        check_joint_covers_several_units(units, rules, warnings)
    covered = tuple(cmd.enterprise_ids)
    events: list[tuple[str, DomainEvent]] = [
        (unit.id, EnterpriseBranchFounded(
            enterprise_id=unit.id, organization_id=organization_id, founding_mode=cmd.founding_mode,
            covered_enterprise_ids=covered, founded_on=cmd.founded_on, approved_by=cmd.approved_by,
            approved_on=cmd.approved_on))
        for unit in units]
    return events, warnings


def check_units_exist(ids: list[str], enterprises: list[Enterprise]) -> list[Enterprise]:
    """Every listed unit is registered in this county; returned in the order of the command."""
    by_id = {unit.id: unit for unit in enterprises if unit.exists}
    for eid in ids:
        if eid not in by_id:
            raise not_found("enterprise_not_found", f"单位 {eid} 不存在于本县 / unit {eid} not found in this county",
                            "enterprise_ids")
    return [by_id[eid] for eid in ids]


def check_operating(unit: Enterprise) -> None:
    """A Party organization is founded in a unit that operates, not one that stopped or is gone."""
    if unit.status != "operating":
        raise invalid("enterprise_not_operating", "enterprise_ids",
                      f"单位“{unit.name}”已停产或注销，不能组建党组织 / the unit is {unit.status}")


def check_not_yet_organized(unit: Enterprise) -> None:
    """A unit is covered by one organization; a second founding is a mistake or needs a transfer."""
    if unit.organization_id is not None:
        raise conflict("already_organized", f"单位“{unit.name}”（{unit.id}）已建立党组织 {unit.organization_id} / "
                                            f"unit {unit.id} is already covered by organization {unit.organization_id}")


def check_standalone_has_three_full_members(units: list[Enterprise], rules: RuleTable, warnings: list[str]) -> None:
    """单独组建 needs one unit with ≥ own_branch_min_full_members full members; probationary
    members do not count."""
    if len(units) != 1:
        raise invalid("standalone_one_unit", "enterprise_ids",
                      "单独组建只能覆盖一个单位，多个单位请选择联合组建 / standalone covers exactly one unit")
    rule = rules.setting_rule("own_branch_min_full_members")
    unit = units[0]
    if unit.full_members < rule.threshold:
        _breach(rule, warnings, "too_few_full_members", "enterprise_ids",
                f"单位“{unit.name}”正式党员{unit.full_members}名，不足{rule.threshold}名（预备党员不计入），"
                f"应联合组建 / {unit.full_members} full members, fewer than {rule.threshold} for an own branch")


def check_joint_covers_several_units(units: list[Enterprise], rules: RuleTable, warnings: list[str]) -> None:
    """联合组建 and its variants cover ≥2 units and at most joint_branch_max_units ("generally")."""
    if len(units) < 2:
        raise invalid("joint_needs_several_units", "enterprise_ids",
                      "联合组建（行业统建、区域联建、楼宇共建）须覆盖2个以上单位 / a joint organization covers several units")
    rule = rules.setting_rule("joint_branch_max_units")
    if len(units) > rule.threshold:
        _breach(rule, warnings, "joint_too_many_units", "enterprise_ids",
                f"联合组建覆盖{len(units)}个单位，超过{rule.threshold}个 / "
                f"covers {len(units)} units, more than {rule.threshold}")
    own = rules.setting_rule("own_branch_min_full_members").threshold
    for unit in units:
        if unit.full_members >= own:
            warnings.append(f"单位“{unit.name}”有正式党员{unit.full_members}名，可单独组建 / "
                            f"{unit.name} has {unit.full_members} full members and could found its own branch")


def _breach(rule: SettingRule, warnings: list[str], code: str, field: str, message: str) -> None:
    """A "must" rule refuses; a "generally" rule lets it through with a warning."""
    if rule.severity == "must":
        raise invalid(code, field, message)
    warnings.append(message)
