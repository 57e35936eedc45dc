"""An organization's life after founding: rename, upgrade (升格), transfer whole (整建制转移), merge,
dissolve/restore. Elections (换届) are elections.py; the organization-setting rules setting_rules.py.

Pure functions over a folded `Organization` (registry/domain.py folds the events): each checks named
invariants and returns new events without mutating anything. The caller loads whatever else a rule
needs from the same county's log (the new parent, a parent-chain lookup, member counts, the members
a merge moves) and passes "today" and the rule table in force. States: active ↔ dissolved; merged
is terminal.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

from shared.aggregate import Decision
from shared.catalog.base import DomainEvent
from shared.catalog.lifecycle import (
    OrganizationDissolved, OrganizationMerged, OrganizationRenamed, OrganizationRestored, OrganizationTransferred,
    OrganizationUpgraded,
)
from shared.catalog.rules import RuleTable
from shared.errors import conflict, invalid, not_found
from services.organizations.lifecycle.commands import (
    DissolveOrganization, MergeOrganization, MergeResult, RenameOrganization, RestoreOrganization,
    TransferOrganization, UpgradeOrganization,
)
from services.organizations.lifecycle.setting_rules import (
    check_approval, check_changeable, check_exists, check_not_dissolved, check_not_merged,
    check_not_own_descendant, check_setting_rules, check_upgrade_is_upward,
)
from services.organizations.registry.commands import TransferMember
from services.organizations.registry.domain import (
    Member, Organization, Township, check_parent_can_hold, check_parent_in_county, check_party_group_under_branch,
    check_township_in_county,
)

MAX_MERGED_MEMBERS = 999  # the absorbed organization's event and its members' transfers: one atomic batch


# --- organization changes -------------------------------------------------------------------------

def rename(org: Organization, cmd: RenameOrganization, *, today: date) -> list[DomainEvent]:
    check_changeable(org, cmd.approved_on, today)
    if cmd.new_name == org.name:
        raise invalid("same_name", "new_name", "新名称与现名称相同 / the new name is the current name")
    return [OrganizationRenamed(organization_id=org.id, new_name=cmd.new_name, previous_name=org.name,
                                approved_by=cmd.approved_by, approved_on=cmd.approved_on)]


def upgrade(org: Organization, cmd: UpgradeOrganization, *, member_count: int, rules: RuleTable,
            today: date) -> list[DomainEvent]:
    """Setting rules of the target type are checked on `member_count` (all members of the organization
    and the ones under it): "must" refuses, "generally" goes into the event as a warning."""
    check_changeable(org, cmd.approved_on, today)
    assert org.organization_type is not None
    check_upgrade_is_upward(org.organization_type, cmd.to_type)
    warnings = check_setting_rules(cmd.to_type, rules=rules, full_members=member_count, members=member_count)
    return [OrganizationUpgraded(organization_id=org.id, from_type=org.organization_type, to_type=cmd.to_type,
                                 member_count=member_count, warnings=tuple(warnings),
                                 approved_by=cmd.approved_by, approved_on=cmd.approved_on)]


def transfer(org: Organization, cmd: TransferOrganization, *, new_parent: Organization | None,
             township: Township | None, parent_of: Callable[[str], str | None],
             today: date) -> list[DomainEvent]:
    """`parent_of(id)` gives an organization's parent id in this county (None at the top), so a move
    under one's own descendant is found. A lookup is per county, so "not found" = not in this county.
    `to_township_id` None keeps the current township."""
    check_changeable(org, cmd.approved_on, today)
    parent = new_parent if cmd.to_parent_id else None
    check_parent_in_county(cmd.to_parent_id, parent)
    if parent is not None:
        check_not_dissolved(parent, "parent")
        check_parent_can_hold(parent)
        check_not_own_descendant(org.id, parent.id, parent_of)
    assert org.organization_type is not None
    check_party_group_under_branch(org.organization_type, parent)
    to_township = cmd.to_township_id or org.township_id
    check_township_in_county(cmd.to_township_id, township)
    if cmd.to_parent_id == org.parent_id and to_township == org.township_id:
        raise invalid("nothing_to_transfer", "to_parent_id",
                      "上级党组织和乡镇均未改变 / neither the parent nor the township changes")
    return [OrganizationTransferred(organization_id=org.id, from_parent_id=org.parent_id,
                                    to_parent_id=cmd.to_parent_id, from_township_id=org.township_id,
                                    to_township_id=to_township, approved_by=cmd.approved_by,
                                    approved_on=cmd.approved_on)]


def merge(org: Organization, cmd: MergeOrganization, *, into: Organization | None, members: Sequence[Member],
          today: date) -> Decision:
    """This organization is absorbed (and so dissolved); every member it holds moves to the absorbing
    one, dated the approval — all in one atomic batch. `members`: those the registry lists under it
    (one that has moved elsewhere meanwhile is left where it is)."""
    check_changeable(org, cmd.approved_on, today)
    if cmd.into_organization_id == org.id:
        raise invalid("merge_into_itself", "into_organization_id", "不能并入自身 / cannot merge into itself")
    if into is None or not into.exists or into.id != cmd.into_organization_id:
        raise not_found("merge_target_not_found", "并入的党组织不存在于本县 / absorbing organization not found "
                        "in this county", "into_organization_id")
    check_not_dissolved(into, "merge_target")
    if not into.can_hold_members:
        raise invalid("merge_target_cannot_hold_members", "into_organization_id",
                      "不能并入党小组 / cannot merge into a party group")
    held = [m for m in members if m.exists and m.branch_id == org.id]
    check_merge_fits_one_batch(len(held))
    decision = Decision().add(org, [OrganizationMerged(organization_id=org.id, into_organization_id=into.id,
                                                       approved_by=cmd.approved_by, approved_on=cmd.approved_on)])
    for member in held:
        decision.add(member, member.transfer(TransferMember(
            member_id=member.id, to_branch_id=into.id, transferred_on=cmd.approved_on,
            reason="党组织合并 / organizations merged"), to_branch=into, today=today))
    decision.answer = MergeResult(organization_id=org.id, into_organization_id=into.id, members_moved=len(held))
    return decision


def check_merge_fits_one_batch(members: int) -> None:
    if members > MAX_MERGED_MEMBERS:
        raise invalid("too_many_members_to_merge", "organization_id",
                      "党员超过999人，请先分批转接 / more than 999 members: transfer them in parts first")


def dissolve(org: Organization, cmd: DissolveOrganization, *, today: date) -> list[DomainEvent]:
    check_exists(org)
    check_not_merged(org)
    if org.status == "dissolved":
        raise conflict("already_dissolved", f"党组织 {org.id} 已撤销 / organization already dissolved")
    check_approval(cmd.approved_on, today)
    return [OrganizationDissolved(organization_id=org.id, reason=cmd.reason,
                                  approved_by=cmd.approved_by, approved_on=cmd.approved_on)]


def restore(org: Organization, cmd: RestoreOrganization, *, today: date) -> list[DomainEvent]:
    check_exists(org)
    check_not_merged(org)
    if org.status != "dissolved":
        raise conflict("not_dissolved", f"党组织 {org.id} 未撤销，无需恢复 / organization is not dissolved")
    check_approval(cmd.approved_on, today)
    return [OrganizationRestored(organization_id=org.id, reason=cmd.reason,
                                 approved_by=cmd.approved_by, approved_on=cmd.approved_on)]


