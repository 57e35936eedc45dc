"""Commands of 无职党员设岗定责 and their replies: a branch defines posts, assigns members without office
to them, records each member's yearly public commitment (公开承诺) and the review of its fulfilment
(践诺评议). Shape checks only; rules needing state are in domain.py."""
from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, Field, field_validator

from shared.catalog.posts import PostCategory, ReviewGrade
from services.organizations.contracts import TOKEN_PATTERN, Command, UploadedFile, blank_to_none

CATEGORY_ALIASES = {
    "政策宣传": "policy_publicity", "政策宣传岗": "policy_publicity", "policy_publicity": "policy_publicity",
    "环境卫生": "environment", "环境整治": "environment", "环境卫生监督岗": "environment", "environment": "environment",
    "矛盾调解": "mediation", "矛盾纠纷调解岗": "mediation", "调解": "mediation", "mediation": "mediation",
    "关爱老人": "elderly_care", "敬老助老": "elderly_care", "关爱帮扶岗": "elderly_care", "elderly_care": "elderly_care",
    "治安巡逻": "safety", "平安建设": "safety", "safety": "safety",
    "便民服务": "services", "服务群众": "services", "services": "services",
    "其他": "other", "other": "other",
}
GRADE_ALIASES = {"优秀": "excellent", "excellent": "excellent", "良好": "good", "好": "good", "good": "good",
                 "一般": "fair", "合格": "fair", "fair": "fair", "差": "poor", "较差": "poor", "不合格": "poor",
                 "poor": "poor"}
CATEGORY_NAMES = {"policy_publicity": "政策宣传", "environment": "环境卫生", "mediation": "矛盾调解",
                  "elderly_care": "关爱老人", "safety": "治安巡逻", "services": "便民服务", "other": "其他"}
GRADE_NAMES = {"excellent": "优秀", "good": "良好", "fair": "一般", "poor": "差"}


def _aliased(aliases: dict[str, str]):
    def normalize(value: Any) -> Any:
        return aliases.get(value.strip().lower(), value) if isinstance(value, str) else value
    return normalize


class DefinePost(Command):
    """设岗 / A branch defines a post for members without office (e.g. 政策宣传岗, 矛盾纠纷调解岗)."""

    post_id: str | None = Field(None, pattern=TOKEN_PATTERN, description="岗位编号（可选） / id; derived when omitted")
    branch_id: str = Field(pattern=TOKEN_PATTERN, description="设岗的党支部 / the branch")
    name: str = Field(min_length=1, max_length=40, description="岗位名称 / e.g. 政策宣传岗")
    category: PostCategory = Field(description="类别 / policy_publicity 政策宣传, environment 环境卫生, mediation 矛盾调解, "
                                               "elderly_care 关爱老人, safety 治安巡逻, services 便民服务, other 其他")
    duties: str = Field(min_length=1, max_length=300, description="岗位职责 / what the post holder does")
    defined_on: date = Field(description="设岗日期 / date")

    _blank = field_validator("post_id", mode="before")(blank_to_none)
    _category = field_validator("category", mode="before")(_aliased(CATEGORY_ALIASES))


class AssignPost(Command):
    """定责 / Assign a member without office (not on the branch committee) to a post."""

    post_id: str = Field(pattern=TOKEN_PATTERN, description="岗位编号 / the post")
    member_id: str = Field(pattern=TOKEN_PATTERN, description="党员编号 / the member")
    assigned_on: date = Field(description="上岗日期 / date")


class ReleasePost(Command):
    """离岗 / A member leaves a post."""

    post_id: str = Field(pattern=TOKEN_PATTERN, description="岗位编号 / the post")
    member_id: str = Field(pattern=TOKEN_PATTERN, description="党员编号 / the member")
    released_on: date = Field(description="离岗日期 / date")
    reason: str = Field(min_length=1, max_length=200, description="原因 / reason")


class MakeCommitment(Command):
    """公开承诺 / A member on a post makes the year's public commitment."""

    member_id: str = Field(pattern=TOKEN_PATTERN, description="党员编号 / the member")
    post_id: str = Field(pattern=TOKEN_PATTERN, description="所在岗位 / the post it is made on")
    year: int = Field(ge=2000, le=2100, description="承诺年度 / year")
    items: tuple[str, ...] = Field(min_length=1, max_length=10, description="承诺事项 / what is promised")
    made_on: date = Field(description="承诺日期 / date")
    published_at: str = Field(min_length=1, max_length=60, description="公开方式 / where it was made public, "
                                                                      "e.g. 村务公开栏")

    @field_validator("items")
    @classmethod
    def _items(cls, items: tuple[str, ...]) -> tuple[str, ...]:
        if any(not i.strip() or len(i) > 100 for i in items):
            raise ValueError("每项 1–100 字 / each item 1–100 characters")
        return tuple(i.strip() for i in items)


class ReviewCommitment(Command):
    """践诺评议 / Review how the member fulfilled the year's commitment."""

    member_id: str = Field(pattern=TOKEN_PATTERN, description="党员编号 / the member")
    year: int = Field(ge=2000, le=2100, description="承诺年度 / year")
    reviewed_on: date = Field(description="评议日期 / date")
    reviewed_by: str = Field(min_length=1, max_length=60, description="评议主体 / e.g. 支部党员大会和群众代表")
    grade: ReviewGrade = Field(description="excellent 优秀 / good 良好 / fair 一般 / poor 差")
    note: str | None = Field(None, max_length=200, description="说明（可选） / note")

    _blank = field_validator("note", mode="before")(blank_to_none)
    _grade = field_validator("grade", mode="before")(_aliased(GRADE_ALIASES))


class ImportPosts(UploadedFile):
    """批量导入岗位 / Define the posts of a spreadsheet (CSV or .xlsx): columns 支部, 岗位名称, 岗位类别, 岗位职责,
    设岗日期 (optional 党员: names of the branch's members to assign, separated by 、); all rows or none."""


# -- replies --------------------------------------------------------------------------------------
class PostChange(BaseModel):
    post_id: str = Field(description="岗位编号 / the post")


class CommitmentChange(BaseModel):
    commitment_id: str = Field(description="承诺编号 / <year>-<member id>")


class CommitmentReviewResult(BaseModel):
    commitment_id: str = Field(description="承诺编号 / <year>-<member id>")
    fulfilled: bool = Field(description="践诺 / every grade but poor")
    evidence_ref: str = Field(description="评议凭证，可作职责星积分的 evidence_ref / the reference a duty-star score "
                                          "cites as its evidence")


class PostImport(BaseModel):
    imported: int = Field(description="本次新设岗位数 / posts defined now")
    assigned: int = Field(description="本次上岗人数 / members assigned now")
    already_imported: int = Field(description="此前已设（同支部同名） / posts already defined")
