"""What the ratings service answers to auditors: ratings as of a business date as known at a recorded time,
with provenance, and the paged score history (docs/decisions/016-audit-log.md)."""
from __future__ import annotations

from pydantic import Field

from shared.catalog.ratings import RatedKind
from services.ratings.replies import RatedFigures, Reply, ScoreEntry, StarDistribution


class Recorded(Reply):
    seq: int = Field(description="stream sequence of the event")
    event_id: str = Field(description="id of the event")
    recorded_at: str = Field(description="when it was recorded (UTC)")
    recorded_by: str = Field(description="who recorded it (role:subject from the token)")


class Revocation(Recorded):
    reason: str = Field(description="why the score was revoked")
    known_then: bool = Field(description="recorded by known_at: false means revoked only later")


class ScoreProvenance(Recorded, ScoreEntry):
    occurred_on: str = Field(description="business date of the conduct")
    effective: bool = Field(description="occurred on or before as_of")
    revoked: bool = Field(description="revoked as known at known_at")
    counted: bool = Field(description="counts in this answer (effective and not revoked)")
    revocation: Revocation | None = Field(description="who revoked it, when and why (also when only later)")


class SchemeProvenance(Recorded):
    name: str = Field(description="name of the scheme in force")
    township_id: str | None = Field(description="township of the scheme; null: the county's")
    version: int = Field(description="schema version the definition was stored in (v1 is upcast)")


class RatingAsOf(RatedFigures):
    """A member's or organization's stars as of a business date, as the county knew them at a recorded time."""

    as_of: str = Field(description="business date: scores that occurred on or before it")
    known_at: str = Field(description="recorded time: only events recorded by then (UTC)")
    scheme: SchemeProvenance | None = Field(description="the scheme in force as known then, and who defined it")
    provenance: list[ScoreProvenance] = Field(description="every score known then and effective by as_of")


class ScoreHistory(Reply):
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
