"""An organization's life after founding: changes with approval, setting rules by severity, elections."""
from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from services.organizations.registry.domain import Member, Organization, Township
from services.organizations.lifecycle.domain import (MAX_MERGED_MEMBERS, dissolve, merge, rename, restore, transfer,
                                                     upgrade)
from services.organizations.lifecycle.setting_rules import check_setting_rules
from services.organizations.lifecycle.commands import (
    DissolveOrganization, MergeOrganization, RenameOrganization, RestoreOrganization, TransferOrganization,
    UpgradeOrganization,
)
from services.organizations.rules.baseline import NATIONAL_BASELINE
from shared.catalog import CATALOG
from shared.catalog.organizations import MemberRegistered, TownshipAdded
from shared.catalog.rules import RuleTable
from tests.unit.domain_support import established as org, folded, refused

TODAY = date(2025, 6, 30)
ORG = "qiaogang-village"
APPROVAL = dict(approved_by="中共银海区侨港镇委员会", approved_on=date(2025, 6, 1))


def approved(o: Organization | str) -> dict:
    """The organization a command acts on, with the approval."""
    return dict(organization_id=o if isinstance(o, str) else o.id, **APPROVAL)


def with_severity(code: str, severity: str, rules: RuleTable = NATIONAL_BASELINE) -> RuleTable:
    setting = tuple(r.model_copy(update={"severity": severity}) if r.code == code else r for r in rules.setting)
    return rules.model_copy(update={"setting": setting})


def member(member_id: str, branch_id: str) -> Member:
    return folded(Member(member_id), [MemberRegistered(
        member_id=member_id, name="张秀玲", gender="female", birth_date=date(1980, 5, 1), membership_status="full",
        joined_on=date(2010, 7, 1), branch_id=branch_id)])


@pytest.fixture
def qiaogang_village() -> Organization:
    return org("qiaogang-village")


@pytest.fixture
def dissolved() -> Organization:
    o = org("old-pier-branch", name="侨港镇老码头党支部")
    return folded(o, dissolve(o, DissolveOrganization(reason="码头整体搬迁", **approved(o)), today=TODAY))


# --- catalog ---

def test_lifecycle_events_are_registered_on_the_organization_subject():
    for name in ("OrganizationRenamed", "OrganizationUpgraded", "OrganizationTransferred", "OrganizationMerged",
                 "OrganizationDissolved", "OrganizationRestored", "CommitteeElected", "ElectionPostponed"):
        assert (CATALOG[name].context, CATALOG[name].aggregate_type) == ("org", "organization")


def test_commands_refuse_unknown_fields():
    with pytest.raises(ValidationError):
        RenameOrganization(new_name="侨港村党总支", extra="x", **approved(ORG))


# --- rename ---

def test_rename_records_approval_and_previous_name(qiaogang_village):
    [ev] = rename(qiaogang_village, RenameOrganization(new_name="侨港镇侨港社区党支部", **approved(ORG)), today=TODAY)
    assert (ev.new_name, ev.previous_name, ev.approved_by) == ("侨港镇侨港社区党支部", "侨港镇侨港村党支部", "中共银海区侨港镇委员会")
    assert folded(qiaogang_village, [ev]).name == "侨港镇侨港社区党支部"


def test_rename_refusals(qiaogang_village, dissolved):
    err = refused(lambda: rename(qiaogang_village, RenameOrganization(new_name="侨港镇侨港村党支部", **approved(ORG)), today=TODAY))
    assert (err.status, err.code) == (422, "same_name")
    err = refused(lambda: rename(dissolved, RenameOrganization(new_name="新名称", **approved(dissolved)), today=TODAY))
    assert (err.status, err.code) == (409, "organization_dissolved")
    nowhere = RenameOrganization(new_name="新名称", **approved("nowhere"))
    err = refused(lambda: rename(Organization("nowhere"), nowhere, today=TODAY))
    assert (err.status, err.code) == (404, "organization_not_found")
    late = RenameOrganization(organization_id=ORG, new_name="新名称", approved_by="镇党委", approved_on=date(2025, 7, 1))
    assert refused(lambda: rename(qiaogang_village, late, today=TODAY)).code == "approved_on_in_future"


# --- upgrade (升格) ---

def test_upgrade_to_general_branch_with_enough_members(qiaogang_village):
    [ev] = upgrade(qiaogang_village, UpgradeOrganization(to_type="general_branch", **approved(ORG)), member_count=62,
                   rules=NATIONAL_BASELINE, today=TODAY)
    assert (ev.from_type, ev.to_type, ev.warnings) == ("branch", "general_branch", ())
    assert folded(qiaogang_village, [ev]).organization_type == "general_branch"


def test_generally_rule_lets_the_upgrade_through_with_a_recorded_warning(qiaogang_village):
    [ev] = upgrade(qiaogang_village, UpgradeOrganization(to_type="general_branch", **approved(ORG)), member_count=38,
                   rules=NATIONAL_BASELINE, today=TODAY)
    assert len(ev.warnings) == 1 and "38" in ev.warnings[0] and " / " in ev.warnings[0]


def test_must_rule_refuses_the_same_upgrade(qiaogang_village):
    strict = with_severity("general_branch_min_members", "must")
    err = refused(lambda: upgrade(qiaogang_village, UpgradeOrganization(to_type="general_branch", **approved(ORG)),
                                  member_count=38, rules=strict, today=TODAY))
    assert (err.status, err.code, err.errors[0].field) == (422, "general_branch_min_members", "member_count")


def test_upgrade_to_primary_committee_threshold_is_at_least_100(qiaogang_village):
    cmd = UpgradeOrganization(to_type="primary_committee", **approved(ORG))
    assert upgrade(qiaogang_village, cmd, member_count=100, rules=NATIONAL_BASELINE, today=TODAY)[0].warnings == ()
    assert len(upgrade(qiaogang_village, cmd, member_count=99, rules=NATIONAL_BASELINE, today=TODAY)[0].warnings) == 1
    strict = with_severity("primary_committee_min_members", "must")
    assert refused(lambda: upgrade(qiaogang_village, cmd, member_count=99, rules=strict, today=TODAY)).code \
        == "primary_committee_min_members"


def test_upgrade_only_goes_upward():
    general = org("qiaogang-general", "general_branch")
    down = UpgradeOrganization(to_type="branch", **approved(ORG))
    assert refused(lambda: upgrade(general, down, member_count=60, rules=NATIONAL_BASELINE, today=TODAY)).code \
        == "upgrade_not_upward"
    same = UpgradeOrganization(to_type="general_branch", **approved(ORG))
    assert refused(lambda: upgrade(general, same, member_count=60, rules=NATIONAL_BASELINE, today=TODAY)).code \
        == "upgrade_not_upward"
    joint = org("haixian-joint", "joint_branch", host="private_enterprise")
    assert refused(lambda: upgrade(joint, same, member_count=60, rules=NATIONAL_BASELINE, today=TODAY)).code \
        == "not_upgradable"


# --- transfer whole (整建制转移) ---

PARENTS = {"qg-committee": None, "yinhai-committee": None, "qiaogang-village": "qg-committee",
           "qiaogang-group-1": "qiaogang-village", "qiaogang-sub": "qiaogang-village"}


def township(tid: str) -> Township:
    return folded(Township(tid), [TownshipAdded(township_id=tid, name="银滩镇")])


def test_transfer_under_another_committee_and_township(qiaogang_village):
    new_parent = org("yinhai-committee", "primary_committee", host="government_organ", parent=None)
    cmd = TransferOrganization(to_parent_id="yinhai-committee", to_township_id="yintan", **approved(ORG))
    [ev] = transfer(qiaogang_village, cmd, new_parent=new_parent, township=township("yintan"),
                    parent_of=PARENTS.get, today=TODAY)
    assert (ev.from_parent_id, ev.to_parent_id, ev.from_township_id, ev.to_township_id) == \
        ("qg-committee", "yinhai-committee", "qiaogang", "yintan")
    moved = folded(qiaogang_village, [ev])
    assert (moved.parent_id, moved.township_id) == ("yinhai-committee", "yintan")


def test_transfer_keeps_the_township_when_none_is_given(qiaogang_village):
    new_parent = org("yinhai-committee", "primary_committee", host="government_organ", parent=None)
    [ev] = transfer(qiaogang_village, TransferOrganization(to_parent_id="yinhai-committee", **approved(ORG)),
                    new_parent=new_parent, township=None, parent_of=PARENTS.get, today=TODAY)
    assert ev.to_township_id == "qiaogang"


def test_transfer_refusals(qiaogang_village):
    def attempt(parent_id, parent, township_obj=None, township_id=None):
        cmd = TransferOrganization(to_parent_id=parent_id, to_township_id=township_id, **approved(ORG))
        return refused(lambda: transfer(qiaogang_village, cmd, new_parent=parent, township=township_obj,
                                        parent_of=PARENTS.get, today=TODAY))
    assert (attempt("beihai-x", None).status, attempt("beihai-x", None).code) == (404, "parent_not_found")
    assert attempt("qiaogang-village", qiaogang_village).code == "transfer_into_own_subtree"
    group = org("qiaogang-group-1", "party_group", parent="qiaogang-village")
    assert attempt("qiaogang-group-1", group).code == "parent_is_party_group"
    sub = org("qiaogang-sub", "general_branch", parent="qiaogang-village")
    assert attempt("qiaogang-sub", sub).code == "transfer_into_own_subtree"
    gone = folded(org("old-committee", "primary_committee", parent=None),
                  [dissolve(org("old-committee", "primary_committee", parent=None),
                            DissolveOrganization(reason="撤并", **approved("old-committee")), today=TODAY)[0]])
    assert (attempt("old-committee", gone).status, attempt("old-committee", gone).code) == (409, "parent_dissolved")
    assert attempt("qg-committee", org("qg-committee", "primary_committee", parent=None)).code == "nothing_to_transfer"
    assert attempt("qg-committee", org("qg-committee", "primary_committee", parent=None),
                   township_id="nowhere").code == "township_not_found"


# --- merge, dissolve, restore ---

def merged_into(o: Organization, into: Organization | None, into_id: str, members=()):
    return merge(o, MergeOrganization(into_organization_id=into_id, **approved(o)), into=into, members=members,
                 today=TODAY)


def test_merge_dissolves_the_absorbed_organization_for_good(qiaogang_village):
    into = org("qiaogang-community", host="community", name="侨港镇侨港社区党支部")
    decision = merged_into(qiaogang_village, into, into.id)
    [(absorbed, [ev])] = decision.changes
    assert absorbed is qiaogang_village and decision.answer.members_moved == 0
    merged = folded(qiaogang_village, [ev])
    assert (merged.status, merged.merged_into) == ("merged", "qiaogang-community")
    restore_cmd = RestoreOrganization(reason="恢复", **approved(ORG))
    assert refused(lambda: restore(merged, restore_cmd, today=TODAY)).code == "organization_merged"
    dissolve_cmd = DissolveOrganization(reason="x", **approved(merged))
    assert refused(lambda: dissolve(merged, dissolve_cmd, today=TODAY)).code == "organization_merged"


def test_merge_moves_the_members_it_holds_dated_the_approval(qiaogang_village):
    into = org("qiaogang-community", host="community", name="侨港镇侨港社区党支部")
    zhang, li, moved_away = (member(mid, branch) for mid, branch in (
        ("zhang-xiuling", "qiaogang-village"), ("li-weidong", "qiaogang-village"), ("chen-hai", "qiaogang-community")))
    decision = merged_into(qiaogang_village, into, into.id, members=[zhang, li, moved_away])
    assert [agg.id for agg, _ in decision.changes] == ["qiaogang-village", "zhang-xiuling", "li-weidong"]
    for _, [ev] in decision.changes[1:]:
        assert (ev.from_branch_id, ev.to_branch_id, ev.transferred_on) == (
            "qiaogang-village", "qiaogang-community", APPROVAL["approved_on"])
    assert (decision.answer.members_moved, decision.answer.into_organization_id) == (2, "qiaogang-community")


def test_merge_of_more_members_than_one_batch_holds_is_refused(qiaogang_village):
    into = org("qiaogang-community", host="community")
    crowd = [member(f"m{i}", "qiaogang-village") for i in range(MAX_MERGED_MEMBERS + 1)]
    assert refused(lambda: merged_into(qiaogang_village, into, into.id, crowd)).code == "too_many_members_to_merge"


def test_merge_refusals(qiaogang_village, dissolved):
    def attempt(into_id, into):
        return refused(lambda: merged_into(qiaogang_village, into, into_id))
    assert attempt("qiaogang-village", qiaogang_village).code == "merge_into_itself"
    assert (attempt("ghost", None).status, attempt("ghost", None).code) == (404, "merge_target_not_found")
    assert (attempt(dissolved.id, dissolved).status, attempt(dissolved.id, dissolved).code) == \
        (409, "merge_target_dissolved")
    group = org("qiaogang-group-1", "party_group", parent="qiaogang-village")
    assert attempt(group.id, group).code == "merge_target_cannot_hold_members"


def test_dissolve_and_restore_state_machine(qiaogang_village):
    cmd = DissolveOrganization(reason="村庄整体搬迁", **approved(ORG))
    gone = folded(qiaogang_village, dissolve(qiaogang_village, cmd, today=TODAY))
    assert gone.status == "dissolved"
    assert (refused(lambda: dissolve(gone, cmd, today=TODAY)).code) == "already_dissolved"
    back = folded(gone, restore(gone, RestoreOrganization(reason="撤销决定有误，恢复", **approved(gone)), today=TODAY))
    assert back.status == "active"
    err = refused(lambda: restore(back, RestoreOrganization(reason="x", **approved(back)), today=TODAY))
    assert (err.status, err.code) == (409, "not_dissolved")


# --- setting rules at founding ---

def test_own_branch_needs_three_full_members_by_severity():
    err = refused(lambda: check_setting_rules("branch", rules=NATIONAL_BASELINE, full_members=2, members=4))
    assert (err.code, err.errors[0].field) == ("own_branch_min_full_members", "full_members")
    lenient = with_severity("own_branch_min_full_members", "generally")
    [warning] = check_setting_rules("branch", rules=lenient, full_members=2, members=4)
    assert "2" in warning and "joint branch" in warning
    assert check_setting_rules("branch", rules=NATIONAL_BASELINE, full_members=3) == []


def test_generally_rules_at_founding_warn():
    assert len(check_setting_rules("branch", rules=NATIONAL_BASELINE, full_members=40, members=55)) == 1
    assert len(check_setting_rules("joint_branch", rules=NATIONAL_BASELINE, full_members=9, units=6)) == 1
    assert check_setting_rules("joint_branch", rules=NATIONAL_BASELINE, full_members=9, units=5) == []
    assert check_setting_rules("party_group", rules=NATIONAL_BASELINE, full_members=1) == []
