"""Ratings domain: star schemes (设星方案), points handbooks (一人一册/一村一册), rating years.

Pure: no I/O and no clock. The handler passes in what lives elsewhere — `today`, whether the
rating year is open, the scheme in force — so every rule here is a plain, testable decision.
Aggregates follow shared.aggregate: `apply` is the only mutator; command methods return events.
What a scheme is and how points become stars (积分换星) is services/ratings/scheme.py.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date

from services.ratings.commands import DefineStarScheme, RecordScore
from services.ratings.scheme import StarScheme, build_slots, class_one_min_stars_for, validate_slots
from shared.aggregate import Aggregate
from shared.catalog.base import DomainEvent
from shared.catalog.ratings import (MemberScored, OrganizationScored, RatedKind, RatingYearClosed,
                                    RatingYearReopened, ScoreRevoked, StarSchemeDefined, StarSlot)
from shared.errors import conflict, invalid, not_found


# ---- aggregate ids ---------------------------------------------------------------------------

def scheme_aggregate_id(year: int, rated_kind: RatedKind, township_id: str | None) -> str:
    return f"{year}.{rated_kind}.{township_id or 'county'}"


def points_aggregate_id(year: int, rated_kind: RatedKind, rated_id: str) -> str:
    return f"{year}.{rated_kind}.{rated_id}"


# ---- named checks ----------------------------------------------------------------------------

def check_year_is_open(year: int, year_is_open: bool) -> None:
    if not year_is_open:
        raise conflict("rating_year_closed", f"{year}年度评星已关闭，如需补录请先说明理由重开 / "
                       f"rating year {year} is closed; reopen it with a reason first")


def check_scheme_in_force(scheme: StarScheme | None, year: int) -> StarScheme:
    if scheme is None:
        raise invalid("no_star_scheme", "year", f"{year}年度尚未制定设星方案 / no star scheme is in force for {year}")
    return scheme


def check_category_in_scheme(scheme: StarScheme, category: str) -> StarSlot:
    slot = scheme.slot(category)
    if slot is None:
        valid = ", ".join(scheme.categories)
        raise invalid("category_not_in_scheme", "category", f"类别“{category}”不在设星方案中，可选：{valid} / "
                      f"category {category!r} is not in the star scheme; valid: {valid}")
    return slot


def check_points_within_bounds(slot: StarSlot, points: int) -> None:
    if points == 0 or not slot.min_points <= points <= slot.max_points:
        raise invalid("points_out_of_bounds", "points",
                      f"{slot.name}单次积分须在{slot.min_points}到{slot.max_points}之间且不为0 / points for "
                      f"{slot.category} must be between {slot.min_points} and {slot.max_points} and not 0, "
                      f"not {points}")


def check_occurred_on_in_year(occurred_on: date, year: int, today: date) -> None:
    if occurred_on > today:
        raise invalid("occurred_on_in_future", "occurred_on",
                      f"发生日期不能晚于今天 / occurred_on {occurred_on} is after today ({today})")
    if occurred_on.year != year:
        raise invalid("occurred_on_outside_year", "occurred_on",
                      f"发生日期须在{year}年内 / occurred_on {occurred_on} is outside rating year {year}")


def check_reason_given(reason: str | None) -> str:
    if reason is None or not reason.strip():
        raise invalid("reason_required", "reason", "请填写理由 / a reason is required")
    return reason.strip()


# ---- aggregates ------------------------------------------------------------------------------

class StarSchemeBook(Aggregate):
    """The scheme in force for one year, rated kind and township (or the whole county)."""

    context, aggregate_type = "ratings", "scheme"

    def __init__(self, aggregate_id: str):
        super().__init__(aggregate_id)
        self.current: StarSchemeDefined | None = None

    @property
    def scheme(self) -> StarScheme | None:
        return StarScheme.from_event(self.current) if self.current else None

    def apply(self, event: DomainEvent) -> None:
        if isinstance(event, StarSchemeDefined):
            self.current = event
            self.mark_exists()

    def define(self, cmd: DefineStarScheme, year_is_open: bool) -> list[DomainEvent]:
        check_year_is_open(cmd.year, year_is_open)
        slots, cut = build_slots(cmd), class_one_min_stars_for(cmd)
        validate_slots(slots, cut)
        return [StarSchemeDefined(year=cmd.year, rated_kind=cmd.rated_kind, township_id=cmd.township_id,
                                  name=cmd.name, preset=cmd.preset, slots=slots, class_one_min_stars=cut)]


class RatingYear(Aggregate):
    """年度评定: open until closed; a closed year takes no late scores until reopened with a reason."""

    context, aggregate_type = "ratings", "year"

    def __init__(self, aggregate_id: str):
        super().__init__(aggregate_id)
        self.year = int(aggregate_id)
        self.closed = False

    def apply(self, event: DomainEvent) -> None:
        if isinstance(event, RatingYearClosed):
            self.closed = True
        elif isinstance(event, RatingYearReopened):
            self.closed = False
        else:
            return
        self.mark_exists()

    def check_year_is_open(self) -> None:
        check_year_is_open(self.year, not self.closed)

    def close(self, reason: str | None = None) -> list[DomainEvent]:
        if self.closed:
            raise conflict("rating_year_already_closed",
                           f"{self.year}年度已关闭 / rating year {self.year} is already closed")
        return [RatingYearClosed(year=self.year, reason=(reason or "").strip() or None)]

    def reopen(self, reason: str) -> list[DomainEvent]:
        reason = check_reason_given(reason)
        if not self.closed:
            raise conflict("rating_year_not_closed", f"{self.year}年度未关闭，无需重开 / rating year {self.year} is not closed")
        return [RatingYearReopened(year=self.year, reason=reason)]


@dataclass(frozen=True)
class ScoreEntry:
    category: str
    points: int
    revoked: bool = False


def _fingerprint(year: int, category: str, points: int, reason: str, evidence_ref: str | None,
                 occurred_on: date) -> str:
    """What makes a retried RecordScore 'the same': its content, not the generated score_id."""
    text = "\x1f".join([str(year), category, str(points), reason, evidence_ref or "", occurred_on.isoformat()])
    return hashlib.sha256(text.encode()).hexdigest()[:32]


class PointsBook(Aggregate):
    """积分册 (一人一册 / 一村一册): one member's or organization's scores in one rating year."""

    context, aggregate_type = "ratings", "points"

    def __init__(self, aggregate_id: str):
        super().__init__(aggregate_id)
        self.entries: dict[str, ScoreEntry] = {}
        self.keys: dict[str, tuple[str, str]] = {}  # idempotency_key -> (score_id, fingerprint)
        self.rated: tuple[RatedKind, str, int] | None = None  # (rated_kind, rated_id, year)

    def apply(self, event: DomainEvent) -> None:
        if isinstance(event, (MemberScored, OrganizationScored)):
            if isinstance(event, MemberScored):
                self.rated = ("member", event.member_id, event.year)
            else:
                self.rated = ("organization", event.organization_id, event.year)
            self.entries[event.score_id] = ScoreEntry(event.category, event.points)
            self.keys[event.idempotency_key] = (event.score_id, _fingerprint(
                event.year, event.category, event.points, event.reason, event.evidence_ref, event.occurred_on))
        elif isinstance(event, ScoreRevoked) and event.score_id in self.entries:
            entry = self.entries[event.score_id]
            self.entries[event.score_id] = ScoreEntry(entry.category, entry.points, revoked=True)
        else:
            return
        self.mark_exists()

    def points_by_category(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for e in self.entries.values():
            if not e.revoked:
                totals[e.category] = totals.get(e.category, 0) + e.points
        return totals

    def score_for_key(self, key: str) -> str | None:
        hit = self.keys.get(key)
        return hit[0] if hit else None

    def check_idempotency(self, cmd: RecordScore) -> bool:
        """True when this exact score is already recorded (a retry); 409 when the key was used otherwise."""
        hit = self.keys.get(cmd.idempotency_key)
        if hit is None:
            return False
        fp = _fingerprint(cmd.year, cmd.category, cmd.points, cmd.reason, cmd.evidence_ref, cmd.occurred_on)
        if hit[1] != fp:
            raise conflict("idempotency_key_reused", f"幂等键“{cmd.idempotency_key}”已用于另一条积分 / "
                           f"idempotency key {cmd.idempotency_key!r} was already used for a different score")
        return True

    def record(self, cmd: RecordScore, *, score_id: str, scheme: StarScheme | None, year_is_open: bool,
               today: date, branch_id: str | None) -> list[DomainEvent]:
        if self.check_idempotency(cmd):
            return []
        check_year_is_open(cmd.year, year_is_open)
        slot = check_category_in_scheme(check_scheme_in_force(scheme, cmd.year), cmd.category)
        check_points_within_bounds(slot, cmd.points)
        check_occurred_on_in_year(cmd.occurred_on, cmd.year, today)
        common = dict(score_id=score_id, year=cmd.year, category=cmd.category, points=cmd.points,
                      reason=cmd.reason, evidence_ref=cmd.evidence_ref, occurred_on=cmd.occurred_on,
                      idempotency_key=cmd.idempotency_key)
        if cmd.rated_kind == "member":
            return [MemberScored(member_id=cmd.rated_id, branch_id=branch_id, **common)]
        return [OrganizationScored(organization_id=cmd.rated_id, **common)]

    def draft(self) -> "PointsBook":
        """A copy to decide several scores on in turn (a bulk import): each one's events are applied to
        the draft, so a later row sees an earlier row's idempotency key; the book itself is untouched."""
        copy = PointsBook(self.id)
        copy.entries, copy.keys, copy.rated = dict(self.entries), dict(self.keys), self.rated
        if self.exists:
            copy.mark_exists()
        return copy

    def revoke(self, score_id: str, reason: str, year_is_open: bool) -> list[DomainEvent]:
        reason = check_reason_given(reason)
        entry = self.entries.get(score_id)
        if entry is None or self.rated is None:
            raise not_found("score_not_found", f"积分记录不存在 / score {score_id} not found in this points book")
        if entry.revoked:
            raise conflict("score_already_revoked", f"该积分已撤销 / score {score_id} is already revoked")
        rated_kind, rated_id, year = self.rated
        check_year_is_open(year, year_is_open)
        return [ScoreRevoked(score_id=score_id, year=year, rated_kind=rated_kind, rated_id=rated_id, reason=reason)]
