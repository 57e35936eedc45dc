"""What the ratings service answers: the data of each command's and query's successful reply. Declared as
`reply=` on the routes (AsyncAPI) and used by the gateway as response models (OpenAPI)."""
from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from shared.catalog.ratings import RatedKind, StarKind, StarSlot
from services.ratings.scheme import StarClass, StarColour


class Reply(BaseModel):
    model_config = ConfigDict(frozen=True)


# ---- commands --------------------------------------------------------------------------------

class SchemeDefined(Reply):
    """The answer to define_scheme."""

    scheme_id: str = Field(description="<year>.<rated kind>.<township id or county>")
    year: int = Field(description="rating year")
    rated_kind: RatedKind = Field(description="who the scheme rates")


class ScoreRecorded(Reply):
    """The answer to record_score."""

    score_id: str = Field(description="id of the score entry (the earlier one when the idempotency key was seen)")
    replayed: bool = Field(description="true when the same idempotency key had already been recorded")


class EntryRefusal(Reply):
    """Why one entry of a bulk request was refused (the same as a single record_score's refusal)."""

    code: str = Field(description="stable error code, e.g. invalid_input, forbidden, category_not_in_scheme")
    detail: str = Field(description="for people: Chinese / English")
    status: int = Field(description="the HTTP status a single score would have been refused with")
    errors: list[dict[str, str]] = Field(default_factory=list, description="[{field, message}] of the entry")


class EntryResult(Reply):
    """The outcome of one entry of record_scores, in the order sent."""

    index: int = Field(description="position of the entry in the request (0-based)")
    ok: bool = Field(description="true: recorded (or replayed); false: `error` says why not")
    score_id: str | None = Field(None, description="id of the score entry (the earlier one when replayed)")
    replayed: bool = Field(False, description="true when the same idempotency key had already been recorded")
    error: EntryRefusal | None = Field(None, description="why this entry was refused")


class ScoresRecorded(Reply):
    """The answer to record_scores: one result per entry."""

    results: list[EntryResult] = Field(description="one per entry, in the order sent")
    recorded: int = Field(description="entries recorded now")
    replayed: int = Field(description="entries whose idempotency key was already recorded with the same content")
    refused: int = Field(description="entries refused (see their error)")


class ScoreRevocation(Reply):
    """The answer to revoke_score."""

    score_id: str = Field(description="the revoked score entry")
    revoked: bool = Field(description="always true: the score no longer counts")


class RatingYearState(Reply):
    """The answer to close_year and reopen_year."""

    year: int = Field(description="rating year")
    closed: bool = Field(description="true: late scores to the year are refused")


# ---- queries ---------------------------------------------------------------------------------

class StarView(Reply):
    category: str = Field(description="star slot category")
    name: str = Field(description="Chinese name of the star, e.g. 表率示范星")
    kind: StarKind = Field(description="common 共性星 / duty 职责星 / optional 自选星")
    colour: StarColour | None = Field(description="degree within the star: red / silver / gold; null below red")
    earned: bool = Field(description="the star is earned (points ≥ the slot's earn_at) and counts in total_stars")
    points: int = Field(description="points in this category for the year")


class ScoreEntry(Reply):
    """What a score entry says, live (ScoreView) or with its provenance (audit_replies.ScoreProvenance)."""

    score_id: str = Field(description="id of the score entry")
    category: str = Field(description="star slot category")
    points: int = Field(description="award (+) or deduction (−)")
    reason: str = Field(description="the evaluated conduct")
    evidence_ref: str | None = Field(description="reference to the evidence")


class ScoreView(ScoreEntry):
    occurred_on: date = Field(description="when the conduct happened")
    actor: str | None = Field(description="who recorded it (role:subject)")
    revoked: bool = Field(description="revoked scores stay listed but count no longer")
    revoke_reason: str | None = Field(description="why it was revoked")


class RatedFigures(Reply):
    """A member's or organization's stars for a year: live (Rating) or as of a date (audit_replies.RatingAsOf)."""

    rated_kind: RatedKind = Field(description="member or organization")
    rated_id: str = Field(description="member_id or organization_id")
    year: int = Field(description="rating year")
    branch_id: str | None = Field(description="the member's branch (an organization: itself)")
    township_id: str | None = Field(description="township of that branch")
    points_by_category: dict[str, int] = Field(description="points per star slot category")
    stars: list[StarView] = Field(description="one entry per slot of the scheme in force")
    total_stars: int = Field(description="stars earned")
    star_class: StarClass | None = Field(description="一类 class_one / 二类 class_two, when the scheme sets a cut")
    total_points: int = Field(description="sum of the counted scores (not revoked)")


class Rating(RatedFigures):
    """One member's or organization's points handbook and stars for a year (一人一册 / 一村一册)."""

    scores: list[ScoreView] = Field(description="every score entry of the year, in the order recorded")


class StarCounts(Reply):
    rated: int = Field(description="how many were rated")
    by_stars: dict[str, int] = Field(description="how many have each number of earned stars")


class OrganizationStarCounts(StarCounts):
    class_one: int = Field(description="organizations in 一类")
    class_two: int = Field(description="organizations in 二类")


class BranchStars(Reply):
    branch_id: str = Field(description="organization id")
    name: str | None = Field(description="organization name")
    members_rated: int = Field(description="members of the branch with a rating")
    member_distribution: dict[str, int] = Field(description="members by number of earned stars")
    own_stars: int | None = Field(description="the organization's own stars (its own points handbook)")
    own_class: StarClass | None = Field(description="its own 一类/二类")


class StarDistribution(Reply):
    """星级分布: the county's counts by star level, per branch, and 一类/二类."""

    year: int = Field(description="rating year")
    members: StarCounts = Field(description="members rated and their star levels")
    organizations: OrganizationStarCounts = Field(description="organizations rated, their levels and classes")
    branches: list[BranchStars] = Field(description="each branch's member distribution and own level")


class SchemeView(Reply):
    """The star scheme in force (设星方案), as defined."""

    year: int = Field(description="rating year")
    rated_kind: RatedKind = Field(description="who the scheme rates")
    township_id: str | None = Field(description="the township it applies to; null: the whole county")
    name: str = Field(description="scheme name")
    preset: str | None = Field(description="the preset it was filled from, if any")
    slots: list[StarSlot] = Field(description="the star slots with their colour and earning thresholds")
    class_one_min_stars: int | None = Field(description="一类 from this many stars")
