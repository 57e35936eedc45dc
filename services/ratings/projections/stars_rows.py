"""The rows of the star read-model, pure: what an event or a rating becomes as a row. The live fold
(stars_batch.py) and the rebuild fold (stars_rebuild.py) both build their rows here, so a rebuild writes
exactly what the live projection writes."""
from __future__ import annotations

from typing import Any

import orjson

from shared.catalog.organizations import MemberRegistered, OrganizationEstablished
from shared.catalog.ratings import MemberScored, RatingYearClosed, RatingYearReopened, StarSchemeDefined
from shared.envelope import StoredEvent
from services.ratings.scheme import StarScheme

SCORE_COLUMNS = ("county", "score_id", "rated_kind", "rated_id", "year", "category", "points", "reason",
                 "evidence_ref", "occurred_on", "idempotency_key", "actor", "recorded_at", "seq", "revoked",
                 "revoke_reason")
POINTS_COLUMNS = ("county", "rated_kind", "rated_id", "year", "category", "points")


def score_values(county: str, ev: StoredEvent) -> list:
    """The ratings_score row of a MemberScored or OrganizationScored, in SCORE_COLUMNS order."""
    e = ev.event
    kind, rid = ("member", e.member_id) if isinstance(e, MemberScored) else ("organization", e.organization_id)
    return [county, e.score_id, kind, rid, e.year, e.category, e.points, e.reason, e.evidence_ref, e.occurred_on,
            e.idempotency_key, ev.actor, ev.recorded_at, ev.seq, False, None]


def score_row(county: str, ev: StoredEvent) -> dict[str, Any]:
    return dict(zip(SCORE_COLUMNS, score_values(county, ev)))


def organization_row(county: str, e: OrganizationEstablished) -> dict[str, Any]:
    return {"county": county, "organization_id": e.organization_id, "name": e.name,
            "organization_type": e.organization_type, "township_id": e.township_id}


def member_row(county: str, e: MemberRegistered) -> dict[str, Any]:
    return {"county": county, "member_id": e.member_id, "name": e.name, "branch_id": e.branch_id}


def year_row(county: str, e: RatingYearClosed | RatingYearReopened) -> dict[str, Any]:
    return {"county": county, "year": e.year, "closed": isinstance(e, RatingYearClosed), "reason": e.reason}


def scheme_key(e: StarSchemeDefined) -> tuple[int, str, str]:
    """(year, rated kind, scope): the scope is the township or "county"."""
    return e.year, e.rated_kind, e.township_id or "county"


def scheme_row(county: str, e: StarSchemeDefined) -> dict[str, Any]:
    year, kind, scope = scheme_key(e)
    return {"county": county, "year": year, "rated_kind": kind, "scope": scope,
            "definition": orjson.dumps(e.model_dump(mode="json")).decode()}


def scheme_definition(definition: str | bytes) -> StarSchemeDefined:
    """The scheme of a ratings_scheme row. A row written before earning thresholds existed holds a v1
    payload (slots without earn_at): it is upcast like the event it came from."""
    data = orjson.loads(definition)
    version = 1 if any("earn_at" not in slot for slot in data["slots"]) else StarSchemeDefined.schema_version
    return StarSchemeDefined.model_validate(StarSchemeDefined.upcast(version, data))


def in_force(schemes: dict[tuple, Any], year: int, kind: str, township_id: str | None) -> Any:
    """The scheme in force for a rated member or organization: its township's own for the year, else the
    county's (None if neither)."""
    if township_id:
        found = schemes.get((year, kind, township_id))
        if found is not None:
            return found
    return schemes.get((year, kind, "county"))


def star_row(county: str, kind: str, rid: str, year: int, branch_id: str | None, township_id: str | None,
             scheme: StarScheme | None, points_by_category: dict[str, int]) -> dict[str, Any]:
    """The ratings_stars row of one rated member or organization for a year, under the scheme in force."""
    if scheme is None:
        total, star_class, stars = 0, None, []
    else:
        rating = scheme.rate(points_by_category)
        total, star_class = rating.total_stars, rating.star_class
        stars = [{"category": s.category, "name": s.name, "kind": s.kind, "colour": s.colour, "earned": s.earned,
                  "points": s.points} for s in rating.stars]
    return {"county": county, "rated_kind": kind, "rated_id": rid, "year": year, "branch_id": branch_id,
            "township_id": township_id, "total_stars": total, "star_class": star_class,
            "stars": orjson.dumps(stars).decode()}
