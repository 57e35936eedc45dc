"""Rules of the organizations context, on the aggregates alone (no log, no network)."""
from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from services.organizations.registry.commands import (
    AddCounty, AddTownship, EstablishOrganization, RegisterMember, TransferMember,
)
from services.organizations.registry.domain import County, Member, Organization, Township
from shared.catalog.organizations import (
    CountyAdded, MemberRegistered, MemberTransferred, OrganizationEstablished, TownshipAdded,
)
from shared.errors import DomainError
from tests.unit.domain_support import folded, refused

TODAY = date(2025, 6, 30)


def field_of(err: DomainError) -> str | None:
    return err.errors[0].field if err.errors else None


@pytest.fixture
def county() -> County:
    c = County("450503")
    return folded(c, c.add(AddCounty(county_code="450503", name="银海区")))


@pytest.fixture
def qiaogang(county) -> Township:
    t = Township("qiaogang")
    return folded(t, t.add(AddTownship(name="侨港镇", code="450503102"), county))


def establish(county, org_id, org_type, *, parent=None, township=None, host="community", org=None, **kw):
    org = org or Organization(org_id)
    cmd = EstablishOrganization(name=kw.pop("name", f"{org_id} 党组织"), organization_type=org_type,
                                host_unit_type=host, parent_id=parent.id if parent else kw.pop("parent_id", None),
                                township_id=township.id if township else kw.pop("township_id", None),
                                approved_by="中共银海区委组织部", approved_on=kw.pop("approved_on", date(2021, 3, 1)))
    return org, org.establish(cmd, county=county, parent=parent, township=township, today=TODAY)


@pytest.fixture
def committee(county, qiaogang) -> Organization:
    org, events = establish(county, "qg-committee", "primary_committee", township=qiaogang, host="government_organ")
    return folded(org, events)


@pytest.fixture
def branch(county, qiaogang, committee) -> Organization:
    org, events = establish(county, "haixian-branch", "branch", parent=committee, township=qiaogang)
    return folded(org, events)


@pytest.fixture
def other_branch(county, qiaogang, committee) -> Organization:
    org, events = establish(county, "fisher-branch", "branch", parent=committee, township=qiaogang)
    return folded(org, events)


@pytest.fixture
def group(county, branch) -> Organization:
    org, events = establish(county, "haixian-group-1", "party_group", parent=branch)
    return folded(org, events)


def register_cmd(**kw) -> RegisterMember:
    data = dict(name="张秀玲", gender="女", birth_date=date(1978, 4, 12), membership_status="正式党员",
                joined_on=date(2003, 7, 1), branch_id="haixian-branch")
    return RegisterMember(**(data | kw))


@pytest.fixture
def zhang(branch) -> Member:
    m = Member("zhang-xiuling")
    return folded(m, m.register(register_cmd(), branch=branch, today=TODAY))


# --- counties and townships ---

def test_county_added_once(county):
    assert county.exists and county.name == "银海区"
    err = refused(lambda: county.add(AddCounty(county_code="450503", name="银海区")))
    assert (err.status, err.code) == (409, "county_exists")


def test_county_code_must_be_six_digits_not_starting_with_zero():
    for bad in ("050503", "45050", "4505031", "45O503"):
        with pytest.raises(ValidationError):
            AddCounty(county_code=bad, name="银海区")


def test_county_code_must_match_the_aggregate():
    err = refused(lambda: County("450503").add(AddCounty(county_code="450502", name="海城区")))
    assert (err.status, err.code, field_of(err)) == (422, "county_code_mismatch", "county_code")


def test_township_added(qiaogang):
    assert qiaogang.exists and (qiaogang.name, qiaogang.code) == ("侨港镇", "450503102")


def test_township_refused_without_county_or_twice(county, qiaogang):
    err = refused(lambda: Township("qiaogang").add(AddTownship(name="侨港镇"), County("450503")))
    assert (err.status, err.code) == (404, "county_not_found")
    err = refused(lambda: qiaogang.add(AddTownship(name="侨港镇"), county))
    assert (err.status, err.code) == (409, "township_exists")


# --- organizations ---

def test_establish_records_the_approval(county, qiaogang, committee, branch):
    org, events = establish(county, "haixian-branch-2", "branch", parent=committee, township=qiaogang,
                            name="侨港镇海鲜街社区党支部")
    [ev] = events
    assert isinstance(ev, OrganizationEstablished)
    assert (ev.organization_id, ev.parent_id, ev.township_id) == ("haixian-branch-2", "qg-committee", "qiaogang")
    assert (ev.approved_by, ev.approved_on) == ("中共银海区委组织部", date(2021, 3, 1))
    assert not org.exists, "deciding must not mutate state"
    assert branch.parent_id == "qg-committee" and branch.township_id == "qiaogang"


def test_organization_established_once(county, committee):
    err = refused(lambda: establish(county, "qg-committee", "primary_committee", org=committee))
    assert (err.status, err.code) == (409, "organization_exists")


def test_organization_needs_its_county():
    err = refused(lambda: establish(County("450503"), "qg-committee", "primary_committee"))
    assert (err.status, err.code) == (404, "county_not_found")


def test_parent_must_be_in_this_county(county):
    # the caller looked "tieshan-committee" up in 450503's log and found nothing
    err = refused(lambda: establish(county, "b1", "branch", parent_id="tieshan-committee"))
    assert (err.status, err.code, field_of(err)) == (404, "parent_not_found", "parent_id")
    assert err.detail.startswith("上级党组织不存在于本县 / ")
    err = refused(lambda: establish(county, "b1", "branch", parent=Organization("tieshan-committee")))
    assert (err.status, err.code) == (404, "parent_not_found")


def test_party_group_only_under_a_branch(county, committee, branch):
    err = refused(lambda: establish(county, "g1", "party_group", parent=committee))
    assert (err.status, err.code, field_of(err)) == (422, "party_group_needs_branch", "parent_id")
    err = refused(lambda: establish(county, "g1", "party_group"))
    assert (err.status, err.code) == (422, "party_group_needs_branch")
    org, events = establish(county, "g1", "party_group", parent=branch)
    assert events[0].parent_id == "haixian-branch"


def test_nothing_under_a_party_group(county, group):
    for org_type in ("branch", "party_group"):
        err = refused(lambda: establish(county, "x1", org_type, parent=group))
        assert (err.status, err.code, field_of(err)) == (422, "parent_is_party_group", "parent_id")


def test_township_must_be_in_this_county(county):
    err = refused(lambda: establish(county, "b1", "branch", township_id="beijie"))
    assert (err.status, err.code, field_of(err)) == (404, "township_not_found", "township_id")


def test_approval_not_in_the_future(county):
    err = refused(lambda: establish(county, "b1", "branch", approved_on=date(2025, 7, 1)))
    assert (err.status, err.code, field_of(err)) == (422, "approved_on_in_future", "approved_on")
    _, events = establish(county, "b1", "branch", approved_on=TODAY)
    assert events


def test_which_organizations_hold_members(committee, branch, group):
    assert committee.can_hold_members and branch.can_hold_members
    assert not group.can_hold_members
    assert not Organization("nowhere").can_hold_members


def test_establish_command_shape():
    with pytest.raises(ValidationError):
        EstablishOrganization(name="x", organization_type="branch", host_unit_type="village",
                              approved_by="", approved_on=date(2021, 1, 1))
    with pytest.raises(ValidationError):
        EstablishOrganization(name="x", organization_type="cell", host_unit_type="village",
                              approved_by="区委组织部", approved_on=date(2021, 1, 1))
    with pytest.raises(ValidationError):
        EstablishOrganization(name="x", organization_type="branch", host_unit_type="village",
                              approved_by="区委组织部", approved_on=date(2021, 1, 1), organization_id="a b")


# --- members ---

def test_register_member(zhang):
    assert zhang.exists
    assert (zhang.name, zhang.gender, zhang.membership_status) == ("张秀玲", "female", "full")
    assert zhang.branch_id == "haixian-branch" and zhang.joined_on == date(2003, 7, 1)


def test_register_carries_the_import_id(branch):
    [ev] = Member("m2").register(register_cmd(name="陈海生", gender="男"), branch=branch, today=TODAY,
                                 import_id="imp-2025-001")
    assert isinstance(ev, MemberRegistered)
    assert (ev.member_id, ev.gender, ev.import_id) == ("m2", "male", "imp-2025-001")


def test_member_registered_once(zhang, branch):
    err = refused(lambda: zhang.register(register_cmd(), branch=branch, today=TODAY))
    assert (err.status, err.code) == (409, "member_exists")


def test_branch_must_exist_and_hold_members(group):
    err = refused(lambda: Member("m3").register(register_cmd(branch_id="tieshan-1"),
                                                branch=Organization("tieshan-1"), today=TODAY))
    assert (err.status, err.code, field_of(err)) == (404, "branch_not_found", "branch_id")
    err = refused(lambda: Member("m3").register(register_cmd(branch_id=group.id), branch=group, today=TODAY))
    assert (err.status, err.code, field_of(err)) == (422, "branch_cannot_hold_members", "branch_id")


def test_joined_on_not_in_the_future(branch):
    err = refused(lambda: Member("m4").register(register_cmd(joined_on=date(2025, 7, 1)), branch=branch,
                                                today=TODAY))
    assert (err.status, err.code, field_of(err)) == (422, "joined_on_in_future", "joined_on")


@pytest.mark.parametrize(("birth", "code"), [
    (date(2003, 7, 1), "birth_date_after_joined_on"),
    (date(2004, 1, 1), "birth_date_after_joined_on"),
    (date(1985, 7, 2), "under_age"),      # one day short of 18
])
def test_member_at_least_18_on_joining(branch, birth, code):
    err = refused(lambda: Member("m5").register(register_cmd(birth_date=birth, joined_on=date(2003, 7, 1)),
                                                branch=branch, today=TODAY))
    assert (err.status, err.code, field_of(err)) == (422, code, "birth_date")


def test_eighteenth_birthday_is_enough_and_birth_date_optional(branch):
    assert Member("m6").register(register_cmd(birth_date=date(1985, 7, 1)), branch=branch, today=TODAY)
    assert Member("m7").register(register_cmd(birth_date=None), branch=branch, today=TODAY)
    # born on 29 February: 18 on 1 March of a common year
    feb29 = date(2004, 2, 29)
    refused(lambda: Member("m8").register(register_cmd(birth_date=feb29, joined_on=date(2022, 2, 28)),
                                          branch=branch, today=TODAY))
    assert Member("m8").register(register_cmd(birth_date=feb29, joined_on=date(2022, 3, 1)), branch=branch,
                                 today=TODAY)


def test_register_command_accepts_chinese_values():
    cmd = RegisterMember(name="  张秀玲 ", gender="女", membership_status="预备党员", joined_on="2024-07-01",
                         branch_id="haixian-branch")
    assert (cmd.name, cmd.gender, cmd.membership_status) == ("张秀玲", "female", "probationary")
    for bad in (dict(gender="未知"), dict(membership_status="群众"), dict(name="  "), dict(extra="x")):
        with pytest.raises(ValidationError):
            register_cmd(**bad)


# --- transfers ---

def test_transfer_moves_the_single_affiliation(zhang, other_branch):
    cmd = TransferMember(member_id=zhang.id, to_branch_id="fisher-branch", transferred_on=date(2024, 3, 15), reason="工作调动")
    [ev] = zhang.transfer(cmd, to_branch=other_branch, today=TODAY)
    assert isinstance(ev, MemberTransferred)
    assert (ev.from_branch_id, ev.to_branch_id, ev.reason) == ("haixian-branch", "fisher-branch", "工作调动")
    assert zhang.branch_id == "haixian-branch", "deciding must not mutate state"
    zhang.apply(ev)
    assert zhang.branch_id == "fisher-branch"


def test_transfer_refused_to_the_same_branch(zhang, branch):
    cmd = TransferMember(member_id=zhang.id, to_branch_id=branch.id, transferred_on=date(2024, 3, 15))
    err = refused(lambda: zhang.transfer(cmd, to_branch=branch, today=TODAY))
    assert (err.status, err.code, field_of(err)) == (422, "same_branch", "to_branch_id")


def test_transfer_target_must_exist_and_hold_members(zhang, group):
    cmd = TransferMember(member_id=zhang.id, to_branch_id="tieshan-1", transferred_on=date(2024, 3, 15))
    err = refused(lambda: zhang.transfer(cmd, to_branch=Organization("tieshan-1"), today=TODAY))
    assert (err.status, err.code, field_of(err)) == (404, "branch_not_found", "to_branch_id")
    cmd = TransferMember(member_id=zhang.id, to_branch_id=group.id, transferred_on=date(2024, 3, 15))
    err = refused(lambda: zhang.transfer(cmd, to_branch=group, today=TODAY))
    assert (err.status, err.code, field_of(err)) == (422, "branch_cannot_hold_members", "to_branch_id")


def test_transfer_of_unknown_member(other_branch):
    cmd = TransferMember(member_id="nobody", to_branch_id="fisher-branch", transferred_on=date(2024, 3, 15))
    err = refused(lambda: Member("nobody").transfer(cmd, to_branch=other_branch, today=TODAY))
    assert (err.status, err.code) == (404, "member_not_found")


def test_transfer_dates(zhang, branch, other_branch):
    future = TransferMember(member_id=zhang.id, to_branch_id="fisher-branch", transferred_on=date(2025, 7, 1))
    err = refused(lambda: zhang.transfer(future, to_branch=other_branch, today=TODAY))
    assert (err.status, err.code, field_of(err)) == (422, "transferred_on_in_future", "transferred_on")
    early = TransferMember(member_id=zhang.id, to_branch_id="fisher-branch", transferred_on=date(2003, 6, 30))
    err = refused(lambda: zhang.transfer(early, to_branch=other_branch, today=TODAY))
    assert (err.status, err.code, field_of(err)) == (422, "transfer_before_affiliation", "transferred_on")
    # after a move, the next one cannot predate it
    zhang.apply(zhang.transfer(TransferMember(member_id=zhang.id, to_branch_id="fisher-branch", transferred_on=date(2024, 3, 15)),
                               to_branch=other_branch, today=TODAY)[0])
    back = TransferMember(member_id=zhang.id, to_branch_id="haixian-branch", transferred_on=date(2024, 1, 1))
    err = refused(lambda: zhang.transfer(back, to_branch=branch, today=TODAY))
    assert err.code == "transfer_before_affiliation"


def test_events_fold_from_the_log():
    t = folded(Township("qiaogang"), [TownshipAdded(township_id="qiaogang", name="侨港镇")])
    c = folded(County("450503"), [CountyAdded(county_code="450503", name="银海区")])
    assert t.exists and c.exists and c.name == "银海区"
