"""Events of the ratings context: star schemes, scores, rating years."""
from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.catalog.base import DomainEvent

StarKind = Literal["common", "duty", "optional"]
RatedKind = Literal["member", "organization"]


class StarSlot(BaseModel):
    """星位: the standard of one star. Points in its category earn it; thresholds give its colour."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    category: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$", description="category code, e.g. lead_by_example")
    name: str = Field(min_length=1, max_length=40, description="Chinese name, e.g. 表率示范星")
    kind: StarKind = Field(description="common 共性星 / duty 职责星 / optional 自选星")
    points_per_star: int = Field(10, ge=1, le=1000, description="积分换星: points that make one star")
    min_points: int = Field(-10, description="lowest points one score entry may carry (deduction)")
    max_points: int = Field(10, description="highest points one score entry may carry (award)")
    red: int = Field(description="points from which the star shows red 红星")
    silver: int = Field(description="points from which it shows silver 银星")
    gold: int = Field(description="points from which it shows gold 金星")
    earn_at: int = Field(description="points from which the star is earned: it counts in total_stars and the "
                                     "star class (v1 schemes: the red threshold)")


class StarSchemeDefined(DomainEvent, context="ratings", aggregate="scheme"):
    """v2: every slot carries `earn_at`. A v1 event (written before earning thresholds existed) lit and
    counted a star from its red threshold; upcast, it earns from there still."""

    schema_version = 2
    year: int
    rated_kind: RatedKind
    township_id: str | None = None
    name: str
    preset: str | None = None
    slots: tuple[StarSlot, ...]
    class_one_min_stars: int | None = Field(None, description="一类 from this many stars (e.g. 8 of 10)")

    @staticmethod
    def upcast_v1_v2(data: dict[str, Any]) -> dict[str, Any]:
        return {**data, "slots": [{**slot, "earn_at": slot["red"]} for slot in data["slots"]]}


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
