"""Rules of 无职党员设岗定责: a `Post` of a branch and who holds it, and a member's yearly `Commitment`
(公开承诺) with its review (践诺评议). Pure: the caller loads the branch and the member.

A post is for members without office: a member on the branch committee (a seat naming them) is
refused, since their duties are the committee's. The review's `evidence_ref` is what a duty-star
score cites as its evidence (ratings' `evidence_ref`), so a star can be traced to the review behind it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from shared.aggregate import Aggregate
from shared.catalog.base import DomainEvent
from shared.catalog.posts import CommitmentMade, CommitmentReviewed, PostAssigned, PostDefined, PostReleased
from shared.errors import conflict, invalid, not_found

from services.organizations.posts.commands import (AssignPost, DefinePost, MakeCommitment, ReleasePost,
                                                   ReviewCommitment)
from services.organizations.registry.domain import Member, Organization, check_branch_holds_members, check_not_future

EVIDENCE_PREFIX = "践诺评议:"


def commitment_id(year: int, member_id: str) -> str:
    return f"{year}-{member_id}"


def evidence_ref(commitment: str) -> str:
    """What a duty-star score names as its evidence: the review of this commitment."""
    return EVIDENCE_PREFIX + commitment


@dataclass
class Holding:
    member_name: str
    assigned_on: date


class Post(Aggregate):
    context, aggregate_type = "org", "post"

    def __init__(self, aggregate_id: str):
        super().__init__(aggregate_id)
        self.branch_id = self.name = self.category = ""
        self.defined_on: date | None = None
        self.holders: dict[str, Holding] = {}

    def apply(self, event: DomainEvent) -> None:
        if isinstance(event, PostDefined):
            self.mark_exists()
            self.branch_id, self.name, self.category = event.branch_id, event.name, event.category
            self.defined_on = event.defined_on
        elif isinstance(event, PostAssigned):
            self.holders[event.member_id] = Holding(event.member_name, event.assigned_on)
        elif isinstance(event, PostReleased):
            self.holders.pop(event.member_id, None)

    def define(self, cmd: DefinePost, *, branch: Organization, today: date) -> list[DomainEvent]:
        if self.exists:
            raise conflict("post_exists", f"本支部已设“{self.name}” / the branch already has this post")
        check_branch_holds_members(branch, "branch_id")
        check_not_future(cmd.defined_on, today, "defined_on", "设岗日期", "date")
        return [PostDefined(post_id=self.id, branch_id=branch.id, name=cmd.name, category=cmd.category,
                            duties=cmd.duties, defined_on=cmd.defined_on)]

    def assign(self, cmd: AssignPost, *, member: Member, branch: Organization, today: date) -> list[DomainEvent]:
        check_post_exists(self)
        check_not_future(cmd.assigned_on, today, "assigned_on", "上岗日期", "date")
        check_on_or_after(cmd.assigned_on, self.defined_on, "assigned_on", "设岗日期")
        check_member_of_branch(member, self.branch_id)
        check_without_office(member, branch)
        if member.id in self.holders:
            raise conflict("already_on_post", f"{member.name} 已在“{self.name}”上岗 / already holds the post")
        return [PostAssigned(post_id=self.id, member_id=member.id, member_name=member.name or "",
                             assigned_on=cmd.assigned_on)]

    def release(self, cmd: ReleasePost, *, today: date) -> list[DomainEvent]:
        check_post_exists(self)
        check_not_future(cmd.released_on, today, "released_on", "离岗日期", "date")
        holding = self.holders.get(cmd.member_id)
        if holding is None:
            raise not_found("not_on_post", f"该党员不在“{self.name}”岗位上 / the member does not hold the post",
                            "member_id")
        check_on_or_after(cmd.released_on, holding.assigned_on, "released_on", "上岗日期")
        return [PostReleased(post_id=self.id, member_id=cmd.member_id, released_on=cmd.released_on,
                             reason=cmd.reason)]


class Commitment(Aggregate):
    """One member's commitment for one year (id `<year>-<member id>`) and its review."""

    context, aggregate_type = "org", "commitment"

    def __init__(self, aggregate_id: str):
        super().__init__(aggregate_id)
        self.member_id = self.member_name = self.post_id = self.branch_id = ""
        self.year = 0
        self.made_on: date | None = None
        self.reviewed_on: date | None = None
        self.fulfilled: bool | None = None

    def apply(self, event: DomainEvent) -> None:
        if isinstance(event, CommitmentMade):
            self.mark_exists()
            self.member_id, self.member_name, self.post_id = event.member_id, event.member_name, event.post_id
            self.branch_id, self.year, self.made_on = event.branch_id, event.year, event.made_on
        elif isinstance(event, CommitmentReviewed):
            self.reviewed_on, self.fulfilled = event.reviewed_on, event.fulfilled

    def make(self, cmd: MakeCommitment, *, post: Post, member: Member, today: date) -> list[DomainEvent]:
        if self.exists:
            raise conflict("commitment_exists", f"{self.member_name} 已作出 {self.year} 年度承诺 / the member's "
                                                f"{self.year} commitment is recorded")
        check_post_exists(post)
        check_not_future(cmd.made_on, today, "made_on", "承诺日期", "date")
        if cmd.made_on.year not in (cmd.year - 1, cmd.year):
            raise invalid("made_on_outside_year", "made_on", f"承诺日期应在 {cmd.year} 年或上年末 / made in the year or "
                                                             "the end of the year before")
        if member.id not in post.holders:
            raise invalid("not_on_post", "post_id", f"{member.name} 不在“{post.name}”岗位上 / the member does not "
                                                    "hold the post")
        return [CommitmentMade(commitment_id=self.id, member_id=member.id, member_name=member.name or "",
                               branch_id=post.branch_id, post_id=post.id, year=cmd.year, items=cmd.items,
                               made_on=cmd.made_on, published_at=cmd.published_at)]

    def review(self, cmd: ReviewCommitment, *, today: date) -> list[DomainEvent]:
        if not self.exists:
            raise not_found("commitment_not_found", f"该党员没有 {cmd.year} 年度承诺 / no {cmd.year} commitment",
                            "year")
        if self.reviewed_on is not None:
            raise conflict("commitment_reviewed", f"{self.member_name} 的 {self.year} 年度承诺已于 {self.reviewed_on} "
                                                  "评议 / already reviewed")
        check_not_future(cmd.reviewed_on, today, "reviewed_on", "评议日期", "date")
        check_on_or_after(cmd.reviewed_on, self.made_on, "reviewed_on", "承诺日期")
        return [CommitmentReviewed(commitment_id=self.id, reviewed_on=cmd.reviewed_on, reviewed_by=cmd.reviewed_by,
                                   grade=cmd.grade, fulfilled=cmd.grade != "poor", note=cmd.note)]


# --- invariants ---

def check_post_exists(post: Post) -> None:
    if not post.exists:
        raise not_found("post_not_found", f"岗位 {post.id} 不存在于本县 / post {post.id} not found", "post_id")


def check_member_of_branch(member: Member, branch_id: str) -> None:
    if not member.exists or member.branch_id != branch_id:
        raise invalid("member_not_in_branch", "member_id", "党员不属于设岗的党支部 / the member's relationship is not "
                                                           "held by the post's branch")
    if not member.in_good_standing:  # 党籍异动: deceased, left, expelled, suspended
        raise invalid("member_not_in_good_standing", "member_id", f"{member.name} 党籍状态为 {member.standing}，不能上岗 / "
                                                                  "the member is not in good standing")


def holds_office(member: Member, branch: Organization) -> bool:
    """A seat of the branch committee names the member (by id, or by name where no id was recorded)."""
    return any(seat.member_id == member.id or (seat.member_id is None and seat.name == member.name)
               for seat in branch.committee)


def check_without_office(member: Member, branch: Organization) -> None:
    if holds_office(member, branch):
        raise invalid("member_holds_office", "member_id", f"{member.name} 是支部委员，设岗定责面向无职党员 / "
                                                          "posts are for members without office")


def check_on_or_after(day: date, earliest: date | None, field: str, earliest_zh: str) -> None:
    if earliest is not None and day < earliest:
        raise invalid(f"{field}_too_early", field, f"日期早于{earliest_zh}（{earliest}） / date is before {earliest}")
