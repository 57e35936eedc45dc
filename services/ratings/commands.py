"""Commands of the ratings context (imperative). The gateway also publishes them as OpenAPI schemas.

Shape checks live here; rules that need state or the scheme (bounds, categories, closed years)
live in services/ratings/domain.py.
"""
from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from shared.catalog.ratings import RatedKind, StarKind

# ids end up as tokens of NATS subjects (pb.<county>.evt.ratings.points.<year>.<kind>.<id>): no dots
Token = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
POINTS = 100_000  # no slot, threshold or score entry carries more points (a bound, not a rule: slots set theirs)
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class _Command(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SlotInput(_Command):
    """One 星位 as entered; omitted colour thresholds default to 60/80/100 % of points_per_star, an omitted
    earning threshold to the scheme's earn_at_percent of it (by default the full points_per_star)."""

    category: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$", description="category code, e.g. lead_by_example")
    name: str = Field(min_length=1, max_length=40, description="Chinese name, e.g. 表率示范星")
    kind: StarKind = Field(description="common 共性星 / duty 职责星 / optional 自选星")
    points_per_star: int = Field(10, ge=1, le=1000, description="积分换星: points that make one star")
    min_points: int = Field(-10, ge=-POINTS, le=POINTS, description="lowest points one score entry may carry (deduction)")
    max_points: int = Field(10, ge=-POINTS, le=POINTS, description="highest points one score entry may carry (award)")
    red: int | None = Field(None, ge=0, le=POINTS, description="points from which the star shows red 红星 (default 60%)")
    silver: int | None = Field(None, ge=0, le=POINTS, description="points from which it shows silver 银星 (default 80%)")
    gold: int | None = Field(None, ge=0, le=POINTS, description="points from which it shows gold 金星 (default 100%)")
    earn_at: int | None = Field(None, ge=0, le=POINTS, description="积分换星: points from which the star is earned and counted "
                                "(default: earn_at_percent of points_per_star)")


class DefineStarScheme(_Command):
    """设星方案 for one rating year, county-wide or for one township; defining again replaces it."""

    year: int = Field(ge=2000, le=2100, description="rating year")
    rated_kind: RatedKind = Field("member", description="who is rated: member 党员 or organization 党组织")
    township_id: Token | None = Field(None, description="township the scheme applies to; none = whole county")
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)] = Field(
        description="scheme name, e.g. 2026年党员星级管理方案")
    preset: str | None = Field(None, max_length=20, description='"532" (5 common + 3 duty + 2 optional) '
                               'or "beihai-5" (five Beihai member stars); fills slots when slots are omitted')
    slots: list[SlotInput] | None = Field(None, description="star slots; optional when a preset is given")
    class_one_min_stars: int | None = Field(None, ge=0, le=100, description="一类 from this many stars (532 preset: 8)")
    earn_at_percent: int | None = Field(None, ge=1, le=100, description="a star is earned from this percentage "
                                        "of its points_per_star, for slots (and presets) that give no earn_at; "
                                        "default 100: every full points_per_star points (原则上每得够10分获得一个星级)")


class RecordScore(_Command):
    """One score entry (加分/扣分) from evaluated conduct with evidence — never clicks or check-ins."""

    rated_kind: RatedKind = Field(description="member 党员 or organization 党组织")
    rated_id: Token = Field(description="member_id or organization_id")
    year: int = Field(ge=2000, le=2100, description="rating year the score counts for")
    category: str = Field(min_length=1, max_length=40, description="star slot category, e.g. lead_by_example")
    points: int = Field(ge=-POINTS, le=POINTS, description="award (+) or deduction (−); never 0; within the slot's bounds")
    reason: Reason = Field(description="the evaluated conduct, e.g. 带头参与防汛抢险")
    evidence_ref: str | None = Field(None, max_length=200, description="reference to the evidence (file, minutes)")
    occurred_on: date = Field(description="when the conduct happened; inside the rating year, not in the future")
    idempotency_key: str = Field(min_length=1, max_length=100, description="same key + same content = same score")

    @field_validator("points")
    @classmethod
    def _points_non_zero(cls, v: int) -> int:
        if v == 0:
            raise ValueError("points must not be 0")
        return v


class RevokeScore(_Command):
    """Takes a wrong score out of the points handbook; the entry stays in the log with the reason."""

    score_id: Token = Field(description="the score entry to revoke")
    reason: Reason = Field(description="why the score is revoked")


RatingYearNumber = Annotated[int, Field(ge=2000, le=2100, description="rating year")]


class CloseRatingYear(_Command):
    """年度关闭: late scores to the year are refused from now on."""

    year: RatingYearNumber
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = Field(
        None, description="optional note, e.g. 年度评定完成")


class ReopenRatingYear(_Command):
    """年度重开: allowed only with a stated reason, because it changes an already awarded rating."""

    year: RatingYearNumber
    reason: Reason = Field(description="why the closed year is reopened")


class RecordScores(_Command):
    """积分表 in bulk (a month-end import, an integration): each entry is a RecordScore decided, validated,
    scoped and idempotent on its own — its own event in its own points handbook; a refused entry refuses
    only itself. Entries are objects with RecordScore's fields (rated_kind, rated_id, year, category,
    points, reason, evidence_ref, occurred_on, idempotency_key)."""

    scores: list[dict] = Field(min_length=1, max_length=1000,
                               description="up to 1,000 score entries, each with the fields of record_score")
