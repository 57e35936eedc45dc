"""What the ratings service answers to auditors: ratings as of a business date as known at a recorded time,
with provenance, and the paged score history (docs/decisions/016-audit-log.md)."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from shared.catalog.ratings import RatedKind
from services.ratings.replies import StarDistribution, StarView
from services.ratings.scheme import StarClass


class _Reply(BaseModel):
    model_config = ConfigDict(frozen=True)


class Recorded(_Reply):
    seq: int = Field(description="stream sequence of the event")
    event_id: str = Field(description="id of the event")
    recorded_at: str = Field(description="when it was recorded (UTC)")
    recorded_by: str = Field(description="who recorded it (role:subject from the token)")


class Revocation(Recorded):
    reason: str = Field(description="why the score was revoked")
    known_then: bool = Field(description="recorded by known_at: false means revoked only later")


class ScoreProvenance(Recorded):
    score_id: str = Field(description="id of the score entry")
    category: str = Field(description="star slot category")
    points: int = Field(description="award (+) or deduction (−)")
    reason: str = Field(description="the evaluated conduct")
    evidence_ref: str | None = Field(description="reference to the evidence")
    occurred_on: str = Field(description="business date of the conduct")
    effective: bool = Field(description="occurred on or before as_of")
    revoked: bool = Field(description="revoked as known at known_at")
    counted: bool = Field(description="counts in this answer (effective and not revoked)")
    revocation: Revocation | None = Field(description="who revoked it, when and why (also when only later)")


class SchemeProvenance(Recorded):
    name: str = Field(description="name of the scheme in force")
    township_id: str | None = Field(description="township of the scheme; null: the county's")
    version: int = Field(description="schema version the definition was stored in (v1 is upcast)")


class RatingAsOf(_Reply):
    """A member's or organization's stars as of a business date, as the county knew them at a recorded time."""

    rated_kind: RatedKind = Field(description="member or organization")
    rated_id: str = Field(description="member_id or organization_id")
    year: int = Field(description="rating year")
    as_of: str = Field(description="business date: scores that occurred on or before it")
    known_at: str = Field(description="recorded time: only events recorded by then (UTC)")
    branch_id: str | None = Field(description="the member's branch in its scores (an organization: itself)")
    township_id: str | None = Field(description="township of that branch")
    scheme: SchemeProvenance | None = Field(description="the scheme in force as known then, and who defined it")
    points_by_category: dict[str, int] = Field(description="points per star slot category")
    stars: list[StarView] = Field(description="one entry per slot of the scheme")
    total_stars: int = Field(description="stars earned")
    star_class: StarClass | None = Field(description="一类 / 二类 when the scheme sets a cut")
    total_points: int = Field(description="sum of the counted scores")
    provenance: list[ScoreProvenance] = Field(description="every score known then and effective by as_of")


class ScoreHistory(_Reply):
    """积分手册: the score entries of a year, in the order recorded, with revocations; paged."""

    rated_kind: RatedKind = Field(description="member or organization")
    rated_id: str = Field(description="member_id or organization_id")
    year: int = Field(description="rating year")
    known_at: str | None = Field(description="only entries recorded by then; null: everything")
    total: int = Field(description="entries in all pages")
    page: int = Field(description="this page (from 1)")
    page_size: int = Field(description="entries per page")
    items: list[ScoreProvenance] = Field(description="this page's entries")


class StarDistributionAsOf(StarDistribution):
    """星级分布 as of a business date as known at a recorded time (folded from the log)."""

    as_of: str = Field(description="business date")
    known_at: str = Field(description="recorded time (UTC)")
    township_id: str | None = Field(description="only this township's members and organizations")
    branch_id: str | None = Field(description="only this branch's members (and the branch itself)")
    events: int = Field(description="score entries and revocations known then")
