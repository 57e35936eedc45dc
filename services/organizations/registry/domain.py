"""Rules of the organizations context: counties, townships, Party organizations and members.

Pure: aggregates fold their own events (`apply`) and decide new ones; the caller loads the other
aggregates a rule needs from the same county's log and passes "today" in. Because every lookup is
in one county's log, "not found" always means "not in this county".
Details are written for county staff: Chinese first, then English.
"""
from __future__ import annotations

from datetime import date

from shared.aggregate import Aggregate
from shared.catalog.base import DomainEvent
from shared.catalog.lifecycle import (
    CommitteeElected, ElectionPostponed, OrganizationDissolved, OrganizationMerged, OrganizationRenamed,
    OrganizationRestored, OrganizationTransferred, OrganizationUpgraded,
)
from shared.catalog.membership import MembershipStatusChanged, MemberStandingChanged
from shared.catalog.organizations import (
    CountyAdded, MemberRegistered, MemberTransferred, OrganizationEstablished, TownshipAdded,
)
from shared.errors import conflict, invalid, not_found

from services.organizations.registry.commands import (
    AddCounty, AddTownship, EstablishOrganization, RegisterMember, TransferMember,
)

MEMBER_HOLDING_TYPES = frozenset({"branch", "joint_branch", "general_branch", "primary_committee"})
BRANCH_TYPES = frozenset({"branch", "joint_branch", "general_branch"})  # may hold party groups
ADULT_AGE = 18  # 党章第一条: 年满十八岁


class County(Aggregate):
    context, aggregate_type = "org", "county"

    def __init__(self, aggregate_id: str):
        super().__init__(aggregate_id)
        self.name: str | None = None

    def apply(self, event: DomainEvent) -> None:
        if isinstance(event, CountyAdded):
            self.mark_exists()
            self.name = event.name

    def add(self, cmd: AddCounty) -> list[DomainEvent]:
        if cmd.county_code != self.id:
            raise invalid("county_code_mismatch", "county_code",
                          "行政区划代码与县（区）编号不一致 / county code does not match the county id")
        if self.exists:
            raise conflict("county_exists", f"县（区）{self.id} 已存在 / county {self.id} already exists")
        return [CountyAdded(county_code=self.id, name=cmd.name)]


class Township(Aggregate):
    context, aggregate_type = "org", "township"

    def __init__(self, aggregate_id: str):
        super().__init__(aggregate_id)
        self.name: str | None = None
        self.code: str | None = None

    def apply(self, event: DomainEvent) -> None:
        if isinstance(event, TownshipAdded):
            self.mark_exists()
            self.name, self.code = event.name, event.code

    def add(self, cmd: AddTownship, county: County) -> list[DomainEvent]:
        check_county_exists(county)
        if self.exists:
            raise conflict("township_exists", f"乡镇 {self.id} 已存在 / township {self.id} already exists")
        return [TownshipAdded(township_id=self.id, name=cmd.name, code=cmd.code)]


class Organization(Aggregate):
    context, aggregate_type = "org", "organization"

    def __init__(self, aggregate_id: str):
        super().__init__(aggregate_id)
        self.name: str | None = None
        self.organization_type: str | None = None
        self.host_unit_type: str | None = None
        self.parent_id: str | None = None
        self.township_id: str | None = None
        # lifecycle (services/organizations/lifecycle.py decides; only apply() changes these)
        self.status: str | None = None  # active / dissolved / merged (terminal)
        self.merged_into: str | None = None
        self.elected_on: date | None = None
        self.term_ends_on: date | None = None
        self.election_due_on: date | None = None  # term end, or the approved postponed date
        self.committee: tuple = ()
        self.secretary_only: bool | None = None

    @property
    def can_hold_members(self) -> bool:
        """A member's affiliation sits in a branch or committee, never in a party group."""
        return self.organization_type in MEMBER_HOLDING_TYPES

    def apply(self, event: DomainEvent) -> None:
        if isinstance(event, OrganizationEstablished):
            self.mark_exists()
            self.name, self.organization_type = event.name, event.organization_type
            self.host_unit_type, self.parent_id = event.host_unit_type, event.parent_id
            self.township_id, self.status = event.township_id, "active"
        elif isinstance(event, _LIFECYCLE_EVENTS):
            self.mark_exists()
            self._apply_lifecycle(event)

    def _apply_lifecycle(self, event: DomainEvent) -> None:
        if isinstance(event, OrganizationRenamed):
            self.name = event.new_name
        elif isinstance(event, OrganizationUpgraded):
            self.organization_type = event.to_type
        elif isinstance(event, OrganizationTransferred):
            self.parent_id, self.township_id = event.to_parent_id, event.to_township_id
        elif isinstance(event, OrganizationMerged):
            self.status, self.merged_into = "merged", event.into_organization_id
        elif isinstance(event, OrganizationDissolved):
            self.status = "dissolved"
        elif isinstance(event, OrganizationRestored):
            self.status = "active"
        elif isinstance(event, CommitteeElected):
            self.elected_on, self.term_ends_on = event.elected_on, event.term_ends_on
            self.election_due_on, self.committee = event.term_ends_on, event.committee
            self.secretary_only = event.secretary_only
        elif isinstance(event, ElectionPostponed):
            self.election_due_on = event.new_due_on

    def establish(self, cmd: EstablishOrganization, *, county: County, parent: Organization | None,
                  township: Township | None, today: date) -> list[DomainEvent]:
        if self.exists:
            raise conflict("organization_exists", f"党组织 {self.id} 已存在 / organization {self.id} already exists")
        check_county_exists(county)
        check_parent_in_county(cmd.parent_id, parent)
        check_parent_can_hold(parent if cmd.parent_id else None)
        check_party_group_under_branch(cmd.organization_type, parent if cmd.parent_id else None)
        check_township_in_county(cmd.township_id, township)
        check_not_future(cmd.approved_on, today, "approved_on", "批准日期", "approval date")
        return [OrganizationEstablished(
            organization_id=self.id, name=cmd.name, organization_type=cmd.organization_type,
            host_unit_type=cmd.host_unit_type, parent_id=cmd.parent_id, township_id=cmd.township_id,
            approved_by=cmd.approved_by, approved_on=cmd.approved_on)]


_LIFECYCLE_EVENTS = (OrganizationRenamed, OrganizationUpgraded, OrganizationTransferred, OrganizationMerged,
                     OrganizationDissolved, OrganizationRestored, CommitteeElected, ElectionPostponed)


class Member(Aggregate):
    context, aggregate_type = "org", "member"

    def __init__(self, aggregate_id: str):
        super().__init__(aggregate_id)
        self.name: str | None = None
        self.gender: str | None = None
        self.birth_date: date | None = None
        self.membership_status: str | None = None
        self.joined_on: date | None = None
        self.branch_id: str | None = None
        self.affiliated_on: date | None = None  # since when the current branch holds the member
        self.import_id: str | None = None
        self.standing: str = "active"  # 党籍: active, or deceased/left/expelled/suspended/cancelled

    @property
    def in_good_standing(self) -> bool:
        return self.exists and self.standing == "active"

    def apply(self, event: DomainEvent) -> None:
        if isinstance(event, MemberRegistered):
            self.mark_exists()
            self.name, self.gender, self.birth_date = event.name, event.gender, event.birth_date
            self.membership_status, self.joined_on = event.membership_status, event.joined_on
            self.branch_id, self.affiliated_on, self.import_id = event.branch_id, event.joined_on, event.import_id
        elif isinstance(event, MemberTransferred):
            self.branch_id, self.affiliated_on = event.to_branch_id, event.transferred_on
        elif isinstance(event, MembershipStatusChanged):
            self.membership_status = event.membership_status
        elif isinstance(event, MemberStandingChanged):
            self.standing = event.standing

    def register(self, cmd: RegisterMember, *, branch: Organization, today: date,
                 import_id: str | None = None) -> list[DomainEvent]:
        check_member_is_new(self)
        check_branch_holds_members(branch, "branch_id")
        check_not_future(cmd.joined_on, today, "joined_on", "入党日期", "joining date")
        check_adult_on_joining(cmd.birth_date, cmd.joined_on)
        return [MemberRegistered(
            member_id=self.id, name=cmd.name, gender=cmd.gender, birth_date=cmd.birth_date,
            membership_status=cmd.membership_status, joined_on=cmd.joined_on, branch_id=branch.id,
            import_id=import_id)]

    def transfer(self, cmd: TransferMember, *, to_branch: Organization, today: date) -> list[DomainEvent]:
        if not self.exists:
            raise not_found("member_not_found", f"党员 {self.id} 不存在于本县 / member not found in this county")
        check_member_in_good_standing(self)
        check_member_belongs_to_one_branch(self, to_branch)
        check_not_future(cmd.transferred_on, today, "transferred_on", "转接日期", "transfer date")
        assert self.affiliated_on is not None and self.branch_id is not None
        if cmd.transferred_on < self.affiliated_on:
            raise invalid("transfer_before_affiliation", "transferred_on",
                          f"转接日期早于入党或转入本支部日期（{self.affiliated_on}） / "
                          f"transfer date is before the member joined or came to the current branch")
        return [MemberTransferred(member_id=self.id, from_branch_id=self.branch_id, to_branch_id=to_branch.id,
                                  transferred_on=cmd.transferred_on, reason=cmd.reason)]


# --- invariants: one function per rule, so each can be found, read and tested on its own ---

def check_county_exists(county: County) -> None:
    if not county.exists:
        raise not_found("county_not_found", f"县（区）{county.id} 不存在 / county {county.id} not found")


def check_parent_in_county(parent_id: str | None, parent: Organization | None) -> None:
    """A parent is looked up in this county's log only, so a parent elsewhere is simply absent."""
    if parent_id and (parent is None or not parent.exists or parent.id != parent_id):
        raise not_found("parent_not_found",
                        "上级党组织不存在于本县 / parent organization not found in this county", "parent_id")


def check_parent_can_hold(parent: Organization | None) -> None:
    """A party group is the smallest unit: nothing is set up under it."""
    if parent is not None and parent.organization_type == "party_group":
        raise invalid("parent_is_party_group", "parent_id",
                      "党小组下不能设立党组织 / no organization can be set up under a party group")


def check_party_group_under_branch(organization_type: str, parent: Organization | None) -> None:
    """党小组 are divisions of a branch: they need a (joint/general) branch as parent."""
    if organization_type == "party_group" and (parent is None or parent.organization_type not in BRANCH_TYPES):
        raise invalid("party_group_needs_branch", "parent_id",
                      "党小组须设在党支部（联合党支部、党总支）下 / a party group must be set up under a branch")


def check_township_in_county(township_id: str | None, township: Township | None) -> None:
    if township_id and (township is None or not township.exists or township.id != township_id):
        raise not_found("township_not_found", "乡镇不存在于本县 / township not found in this county", "township_id")


def check_member_is_new(member: Member) -> None:
    if member.exists:
        raise conflict("member_exists", f"党员 {member.id} 已登记 / member {member.id} is already registered")


def check_branch_holds_members(branch: Organization, field: str) -> None:
    """Only an existing branch or committee of this county can hold a member's affiliation."""
    if not branch.exists:
        raise not_found("branch_not_found", "党支部不存在于本县 / branch not found in this county", field)
    if not branch.can_hold_members:
        raise invalid("branch_cannot_hold_members", field,
                      "党小组不能接收党员组织关系，请选择党支部 / a party group cannot hold members; choose a branch")
    if branch.status in ("dissolved", "merged"):
        raise invalid("branch_dissolved", field,
                      "该党组织已撤销或合并，不能接收党员 / the organization is dissolved or merged; it takes no members")


def check_member_in_good_standing(member: Member) -> None:
    """A deceased, departed, expelled or suspended member's relationship is not transferred."""
    if member.standing != "active":
        raise conflict("member_not_in_good_standing", f"该党员党籍状态为 {member.standing}，不能转接 / the member's "
                                                      f"standing is {member.standing}: no transfer")


def check_member_belongs_to_one_branch(member: Member, to_branch: Organization) -> None:
    """A transfer moves the single affiliation: the target must differ and be able to hold it."""
    if to_branch.id == member.branch_id:
        raise invalid("same_branch", "to_branch_id",
                      "党员已在该党支部，无需转接 / the member already belongs to this branch")
    check_branch_holds_members(to_branch, "to_branch_id")


def check_not_future(day: date, today: date, field: str, label_zh: str, label_en: str) -> None:
    if day > today:
        raise invalid(f"{field}_in_future", field, f"{label_zh}不能晚于今天 / {label_en} cannot be in the future")


def age_on(birth_date: date, day: date) -> int:
    """Whole years completed on `day` (someone born on 29 February turns a year older on 1 March)."""
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def check_adult_on_joining(birth_date: date | None, joined_on: date) -> None:
    """Party membership requires 18 full years on the joining date (Party Constitution, art. 1)."""
    if birth_date is None:
        return
    if birth_date >= joined_on:
        raise invalid("birth_date_after_joined_on", "birth_date",
                      "出生日期须早于入党日期 / birth date must be before the joining date")
    if age_on(birth_date, joined_on) < ADULT_AGE:
        raise invalid("under_age", "birth_date",
                      "入党时未满十八周岁 / the member was under 18 on the joining date")
