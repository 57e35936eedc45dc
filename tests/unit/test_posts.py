"""无职党员设岗定责, pure: posts for members without office, commitments once a year, reviews once, and the
post import deciding on every row at once."""
from __future__ import annotations

from datetime import date

import pytest

from shared.catalog.lifecycle import CommitteeElected, CommitteeSeat
from shared.catalog.organizations import MemberRegistered, OrganizationEstablished
from shared.errors import DomainError
from shared.ids import stable_id
from services.organizations.posts.commands import AssignPost, DefinePost, MakeCommitment, ReviewCommitment
from services.organizations.posts.domain import Commitment, Post, commitment_id, evidence_ref
from services.organizations.posts.post_sheet import define_posts, parse_post_file
from services.organizations.registry.domain import Member, Organization

TODAY = date(2026, 7, 1)


def branch() -> Organization:
    org = Organization("qg")
    org.apply(OrganizationEstablished(organization_id="qg", name="侨港村党支部", organization_type="branch",
                                      host_unit_type="village", township_id="qiaogang", approved_by="镇党委",
                                      approved_on=date(2019, 5, 4)))
    org.apply(CommitteeElected(organization_id="qg", elected_on=date(2024, 3, 1), term_years=5,
                               term_ends_on=date(2029, 3, 1), secretary_only=True,
                               committee=(CommitteeSeat(role="secretary", name="黄海燕"),)))
    return org


def member(member_id: str, name: str, branch_id: str = "qg") -> Member:
    m = Member(member_id)
    m.apply(MemberRegistered(member_id=member_id, name=name, gender="male", membership_status="full",
                             joined_on=date(2000, 7, 1), branch_id=branch_id))
    return m


def defined_post() -> Post:
    post = Post("p1")
    for e in post.define(DefinePost(branch_id="qg", name="政策宣传岗", category="政策宣传", duties="入户宣讲",
                                    defined_on=date(2026, 1, 5)), branch=branch(), today=TODAY):
        post.apply(e)
    return post


def test_a_post_takes_members_without_office_of_its_branch():
    post = defined_post()
    assign = AssignPost(post_id="p1", member_id="m", assigned_on=date(2026, 1, 5))
    for who, code in ((member("m", "黄海燕"), "member_holds_office"),  # named on the committee (no id recorded)
                      (member("m", "赵大海", branch_id="yg"), "member_not_in_branch")):
        with pytest.raises(DomainError) as refused:
            post.assign(assign, member=who, branch=branch(), today=TODAY)
        assert refused.value.code == code
    for e in post.assign(assign, member=member("m", "陈德明"), branch=branch(), today=TODAY):
        post.apply(e)
    with pytest.raises(DomainError) as twice:
        post.assign(assign, member=member("m", "陈德明"), branch=branch(), today=TODAY)
    assert twice.value.code == "already_on_post"


def test_one_commitment_a_year_reviewed_once_with_an_evidence_reference():
    post, chen = defined_post(), member("m", "陈德明")
    for e in post.assign(AssignPost(post_id="p1", member_id="m", assigned_on=date(2026, 1, 5)), member=chen,
                         branch=branch(), today=TODAY):
        post.apply(e)
    commitment = Commitment(commitment_id(2026, "m"))
    make = MakeCommitment(member_id="m", post_id="p1", year=2026, items=["每月入户宣传"], made_on=date(2026, 1, 10),
                          published_at="村务公开栏")
    for e in commitment.make(make, post=post, member=chen, today=TODAY):
        commitment.apply(e)
    with pytest.raises(DomainError) as again:
        commitment.make(make, post=post, member=chen, today=TODAY)
    assert again.value.code == "commitment_exists"
    review = ReviewCommitment(member_id="m", year=2026, reviewed_on=date(2026, 6, 30), reviewed_by="支部党员大会",
                              grade="差")
    [reviewed] = commitment.review(review, today=TODAY)
    assert not reviewed.fulfilled and evidence_ref(commitment.id) == "践诺评议:2026-m"
    commitment.apply(reviewed)
    with pytest.raises(DomainError) as twice:
        commitment.review(review, today=TODAY)
    assert twice.value.code == "commitment_reviewed"


def test_the_import_defines_posts_and_assigns_members_by_name_in_their_branch():
    sheet = ("支部,岗位名称,岗位类别,岗位职责,设岗日期,党员\n"
             "侨港村党支部,矛盾纠纷调解岗,矛盾调解,调解邻里纠纷,2026-01-06,陈德明、李秀英\n"
             "侨港村党支部,关爱帮扶岗,关爱老人,帮扶独居老人,2026-01-06,黄海燕\n").encode()
    rows, errors = parse_post_file("岗位.csv", sheet, {"侨港村党支部": "qg", "qg": "qg"})
    assert not errors and [r.member_names for r in rows] == [["陈德明", "李秀英"], ["黄海燕"]]
    members = {"qg": [member("a", "陈德明"), member("b", "李秀英"), member("c", "黄海燕")]}

    def id_of(branch_id: str, name: str) -> str:
        return stable_id("post", branch_id, name)
    posts = {id_of("qg", r.post.name): Post(id_of("qg", r.post.name)) for r in rows}
    with pytest.raises(DomainError) as refused:  # 黄海燕 is the secretary: the whole file is refused
        define_posts(rows, posts, {"qg": branch()}, members, id_of, today=TODAY)
    assert [e.field for e in refused.value.errors] == ["row 3: member_id"]
    decision = define_posts(rows[:1], posts, {"qg": branch()}, members, id_of, today=TODAY)
    assert (decision.answer.imported, decision.answer.assigned) == (1, 2)
    assert not posts[id_of("qg", "矛盾纠纷调解岗")].exists  # decided on a copy: the loaded state is untouched
