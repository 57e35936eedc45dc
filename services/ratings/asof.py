"""Bitemporal replay of ratings (pure): a points handbook as of a business date D (scores that occurred on
or before D) as known at a recorded time T (only events recorded by T), with the provenance of every entry.

A revocation is a correction of the record, not a business event: once recorded (by T) the score no
longer counts on any date; revoked after T, it still counted as known at T, and the entry says who
revoked it and when. The scheme in force is the last one defined (for the township, else the county) that
was recorded by T (docs/decisions/016-audit-log.md).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from services.ratings.scheme import StarScheme
from shared.catalog.ratings import MemberScored, OrganizationScored, ScoreRevoked, StarSchemeDefined
from shared.envelope import StoredEvent


@dataclass(frozen=True)
class Knowledge:
    as_of: date        # business date: events effective on or before it
    known_at: datetime  # recorded time (aware): events recorded by then

    def known(self, ev: StoredEvent) -> bool:
        return ev.recorded_at <= self.known_at


def _who(ev: StoredEvent) -> dict[str, Any]:
    return {"seq": ev.seq, "event_id": ev.envelope["event_id"], "recorded_at": ev.envelope["recorded_at"],
            "recorded_by": ev.actor}


@dataclass
class Book:
    """One points handbook replayed: every entry with its provenance, and what counted (as of D, known at T)."""

    entries: list[dict[str, Any]]
    branch_id: str | None

    def counted(self) -> list[dict[str, Any]]:
        return [e for e in self.entries if e["counted"]]

    def points_by_category(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for e in self.counted():
            totals[e["category"]] = totals.get(e["category"], 0) + e["points"]
        return totals


def replay_book(events: Iterable[StoredEvent], k: Knowledge | None) -> Book:
    """`k` None: every entry of the log (the 积分手册 as it stands), nothing filtered."""
    by_id: dict[str, dict[str, Any]] = {}
    branch = BranchAsOf(k)
    for ev in events:
        e = ev.event
        if isinstance(e, (MemberScored, OrganizationScored)):
            known = k is None or k.known(ev)
            if not known:
                continue
            branch.feed(e)
            by_id[e.score_id] = {
                "score_id": e.score_id, "category": e.category, "points": e.points, "reason": e.reason,
                "evidence_ref": e.evidence_ref, "occurred_on": e.occurred_on.isoformat(), **_who(ev),
                "effective": k is None or e.occurred_on <= k.as_of, "revoked": False, "revocation": None}
        elif isinstance(e, ScoreRevoked) and e.score_id in by_id:
            known = k is None or k.known(ev)
            by_id[e.score_id]["revocation"] = {"reason": e.reason, "known_then": known, **_who(ev)}
            by_id[e.score_id]["revoked"] = known
    entries = sorted(by_id.values(), key=lambda x: x["seq"])
    for entry in entries:
        entry["counted"] = entry["effective"] and not entry["revoked"]
    return Book(entries, branch.branch_id)


class BranchAsOf:
    """A member's branch on D as its scores record it: the branch of the score known at T that occurred
    last on or before D (else of the last one known) — a member transferred in June counts in its old
    branch as of March."""

    def __init__(self, k: Knowledge | None):
        self.k, self.branch_id, self._on = k, None, date.min

    def feed(self, e: MemberScored | OrganizationScored) -> None:
        if not isinstance(e, MemberScored) or not e.branch_id:
            return
        effective = self.k is None or e.occurred_on <= self.k.as_of
        if effective and e.occurred_on >= self._on:
            self.branch_id, self._on = e.branch_id, e.occurred_on
        elif self._on == date.min:  # nothing effective yet: the latest recorded stands in
            self.branch_id = e.branch_id


class PointsFold:
    """What replay_book counts, kept small and fed one event at a time: the distribution folds a whole
    year's handbooks at once, and holding their events would cost gigabytes at county size."""

    def __init__(self, k: Knowledge):
        self.k = k
        self.scores: dict[str, tuple[str, int, bool]] = {}  # score_id -> (category, points, effective)
        self.revoked: set[str] = set()
        self._branch = BranchAsOf(k)

    @property
    def branch_id(self) -> str | None:
        return self._branch.branch_id

    def feed(self, ev: StoredEvent) -> None:
        e = ev.event
        if isinstance(e, (MemberScored, OrganizationScored)) and self.k.known(ev):
            self._branch.feed(e)
            self.scores[e.score_id] = (e.category, e.points, e.occurred_on <= self.k.as_of)
        elif isinstance(e, ScoreRevoked) and self.k.known(ev):
            self.revoked.add(e.score_id)

    def points_by_category(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for score_id, (category, points, effective) in self.scores.items():
            if effective and score_id not in self.revoked:
                totals[category] = totals.get(category, 0) + points
        return totals


def scheme_as_known(events: Iterable[StoredEvent], k: Knowledge) -> tuple[StarSchemeDefined, StoredEvent] | None:
    """The last scheme definition of one scheme aggregate recorded by T (with the event that defined it)."""
    found = None
    for ev in events:
        if isinstance(ev.event, StarSchemeDefined) and k.known(ev):
            found = (ev.event, ev)
    return found


def rate(scheme: StarSchemeDefined | None, points: dict[str, int]) -> dict[str, Any]:
    """stars, total_stars, star_class under the scheme (no scheme: no stars)."""
    if scheme is None:
        return {"stars": [], "total_stars": 0, "star_class": None}
    rating = StarScheme.from_event(scheme).rate(points)
    return {"stars": [{"category": s.category, "name": s.name, "kind": s.kind, "colour": s.colour,
                       "earned": s.earned, "points": s.points} for s in rating.stars],
            "total_stars": rating.total_stars, "star_class": rating.star_class}


def scheme_provenance(found: tuple[StarSchemeDefined, StoredEvent] | None) -> dict[str, Any] | None:
    if found is None:
        return None
    scheme, ev = found
    return {"name": scheme.name, "township_id": scheme.township_id, "version": ev.envelope["version"], **_who(ev)}
