"""Events of 无职党员设岗定责 (posts for members without office): a branch's posts and who holds them
(one aggregate per post), and each member's yearly public commitment (公开承诺) with the review of its
fulfilment (践诺评议) — one aggregate per member and year."""
from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from shared.catalog.base import DomainEvent

PostCategory = Literal["policy_publicity", "environment", "mediation", "elderly_care", "safety", "services",
                       "other"]
ReviewGrade = Literal["excellent", "good", "fair", "poor"]  # 优秀 / 良好 / 一般 / 差


class PostDefined(DomainEvent, context="org", aggregate="post"):
    post_id: str
    branch_id: str
    name: str = Field(description="岗位名称, e.g. 政策宣传岗")
    category: PostCategory
    duties: str = Field(description="岗位职责")
    defined_on: date


class PostAssigned(DomainEvent, context="org", aggregate="post"):
    post_id: str
    member_id: str
    member_name: str
    assigned_on: date


class PostReleased(DomainEvent, context="org", aggregate="post"):
    post_id: str
    member_id: str
    released_on: date
    reason: str


class CommitmentMade(DomainEvent, context="org", aggregate="commitment"):
    """公开承诺: what a member on a post promises for a year, and where it was made public."""

    commitment_id: str
    member_id: str
    member_name: str
    branch_id: str
    post_id: str
    year: int
    items: tuple[str, ...]
    made_on: date
    published_at: str = Field(description="公开方式, e.g. 村务公开栏")


class CommitmentReviewed(DomainEvent, context="org", aggregate="commitment"):
    """践诺评议: the year's review of the commitment; its evidence reference may back a duty-star score."""

    commitment_id: str
    reviewed_on: date
    reviewed_by: str = Field(description="评议主体, e.g. 支部党员大会和群众代表")
    grade: ReviewGrade
    fulfilled: bool = Field(description="践诺: every grade but poor")
    note: str | None = None
