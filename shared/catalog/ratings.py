"""Events of the ratings context: star schemes, scores, rating years."""
from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.catalog.base import DomainEvent

StarKind = Literal["common", "duty", "optional"]
RatedKind = Literal["member", "organization"]


class StarSlot(BaseModel):
    """星位: the standard of one star. Points in its category light it; thresholds give its colour."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    category: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$", description="category code, e.g. lead_by_example")
    name: str = Field(min_length=1, max_length=40, description="Chinese name, e.g. 表率示范星")
    kind: StarKind
    points_per_star: int = Field(10, ge=1, le=1000)
    min_points: int = Field(-10, description="lowest points one score entry may carry (deduction)")
    max_points: int = Field(10, description="highest points one score entry may carry (award)")
    red: int = Field(description="points from which the star is lit, red 红星")
    silver: int = Field(description="points from which it is silver 银星")
    gold: int = Field(description="points from which it is gold 金星")


class StarSchemeDefined(DomainEvent, context="ratings", aggregate="scheme"):
    year: int
    rated_kind: RatedKind
    township_id: str | None = None
    name: str
    preset: str | None = None
    slots: tuple[StarSlot, ...]
    class_one_min_stars: int | None = Field(None, description="一类 from this many stars (e.g. 8 of 10)")


class _Scored(DomainEvent):
    score_id: str
    year: int
    category: str
    points: int
    reason: str
    evidence_ref: str | None = None
    occurred_on: date
    idempotency_key: str
    branch_id: str | None = Field(None, description="member's branch when scored (members only)")


class MemberScored(_Scored, context="ratings", aggregate="points"):
    member_id: str


class OrganizationScored(_Scored, context="ratings", aggregate="points"):
    organization_id: str


class ScoreRevoked(DomainEvent, context="ratings", aggregate="points"):
    score_id: str
    year: int
    rated_kind: RatedKind
    rated_id: str
    reason: str


class RatingYearClosed(DomainEvent, context="ratings", aggregate="year"):
    year: int
    reason: str | None = None


class RatingYearReopened(DomainEvent, context="ratings", aggregate="year"):
    year: int
    reason: str
