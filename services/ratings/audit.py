"""Audit queries of the ratings service (巡查、纪检): ratings and the star distribution as of a business date
as known at a recorded time, with provenance, and the paged score history (docs/decisions/016-audit-log.md).

Folded from the log, not from the read-model: one member's or organization's answer reads only its own
points handbook (one subject, one Direct Get batch — no replay of the county) and its scheme's subjects;
the distribution reads the year's points handbooks (`ratings.points.<year>.>`). The aggregate loads are
authenticated like a writer's (EventStore.load): a forged event in the history refuses the answer.
"""
from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy import select

from services.ratings.asof import Book, Knowledge, PointsFold, rate, replay_book, scheme_as_known, scheme_provenance
from services.ratings.asof_places import MAX_MERGES, Places
from services.ratings.audit_replies import RatingAsOf, ScoreHistory, StarDistributionAsOf
from services.ratings.commands import RatingYearNumber, Token
from services.ratings.domain import points_aggregate_id, scheme_aggregate_id
from services.ratings.directory import placement
from services.ratings.handlers import today
from services.ratings.projections.stars import StarsProjection
from services.ratings.queries import OUTSIDE_READ
from shared.catalog.ratings import RatedKind
from shared.envelope import subject_for
from shared.errors import forbidden
from shared.messaging import ok
from shared.routes import Context, Routes

routes = Routes("ratings")
AsOf = Field(None, description="业务日期：该日及以前发生的积分；默认今天 / business date; default today")
KnownAt = Field(None, description="记录时间：仅此时已记录的事件；默认现在 / recorded time; default now")


class _Query(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RatingAsOfQuery(_Query):
    """A member's or organization's rating as of a business date, as known at a recorded time."""

    rated_kind: RatedKind = Field(description="member or organization")
    rated_id: Token = Field(description="member_id or organization_id")
    year: RatingYearNumber | None = Field(None, description="rating year; default: the year of as_of")
    as_of: date | None = AsOf
    known_at: AwareDatetime | None = KnownAt


class ScoreHistoryQuery(_Query):
    """积分手册: the score entries of a year with revocations, paged."""

    rated_kind: RatedKind = Field(description="member or organization")
    rated_id: Token = Field(description="member_id or organization_id")
    year: RatingYearNumber
    known_at: AwareDatetime | None = Field(None, description="only entries recorded by then; default: all")
    page: int = Field(1, ge=1, le=100_000, description="page, from 1")
    page_size: int = Field(100, ge=1, le=500, description="entries per page")


class DistributionAsOfQuery(_Query):
    """The star distribution as of a business date, as known at a recorded time; county, township or branch."""

    year: RatingYearNumber | None = Field(None, description="rating year; default: the year of as_of")
    as_of: date | None = AsOf
    known_at: AwareDatetime | None = KnownAt
    township_id: Token | None = Field(None, description="only this township")
    branch_id: Token | None = Field(None, description="only this branch")


def knowledge(as_of: date | None, known_at: datetime | None) -> Knowledge:
    return Knowledge(as_of or today(), (known_at or datetime.now(UTC)).astimezone(UTC))


def _iso(ts: datetime) -> str:
    return ts.isoformat().replace("+00:00", "Z")


async def _book(ctx: Context, kind: str, rated_id: str, year: int, k: Knowledge | None) -> Book:
    subject = subject_for(ctx.county, "ratings", "points", points_aggregate_id(year, kind, rated_id))
    return replay_book(await ctx.service.store.load(ctx.county, subject), k)


def _organizations(ctx: Context) -> dict[str, tuple[str | None, str | None]]:
    """organization id → (name, township), from ratings' directory (current names and townships)."""
    o = ctx.service.projection(StarsProjection).organizations.c
    with ctx.service.engine.connect() as conn:
        rows = conn.execute(select(o.organization_id, o.name, o.township_id).where(o.county == ctx.county)).all()
    return {r.organization_id: (r.name, r.township_id) for r in rows}


async def check_reader_sees(ctx: Context, kind: str, rated_id: str) -> None:
    """404 for someone not registered in the county; 403 outside the reader's township or branch (README:
    Read rules) — placed where the directory has them now."""
    branch, township = await placement(ctx, ctx.service.projection(StarsProjection), kind, rated_id)
    if not ctx.actor.sees_whole_county and not ctx.actor.sees(township, branch):
        raise forbidden(f"{OUTSIDE_READ}: {kind} {rated_id}")


async def _schemes(ctx: Context, year: int, kind: str, k: Knowledge) -> dict[str, tuple]:
    """scope (township id or "county") → (scheme, event) as known at T."""
    prefix = f"pb.{ctx.county}.evt.ratings.scheme.{year}.{kind}."
    by_scope: dict[str, list] = defaultdict(list)
    async for ev in ctx.service.store.read_matching(ctx.county, prefix + "*"):
        by_scope[ev.aggregate_id.split(".", 2)[2]].append(ev)
    return {scope: found for scope, evs in by_scope.items() if (found := scheme_as_known(evs, k))}


async def _places_of(ctx: Context, organization_id: str | None, k: Knowledge) -> Places:
    """One organization's places, and those of what it merged into (a few aggregate loads)."""
    places, seen = Places(), set()
    while organization_id and organization_id not in seen and len(seen) < MAX_MERGES:
        seen.add(organization_id)
        subject = subject_for(ctx.county, "org", "organization", organization_id)
        places.feed(await ctx.service.store.load(ctx.county, subject), k)
        organization_id = places.organization(organization_id, k.as_of)
    return places


def _township(places: Places, orgs: dict, organization_id: str | None, k: Knowledge) -> str | None:
    """Its township on D; today's directory for one whose founding was not known at T (or not in the log)."""
    if organization_id in places.townships:
        return places.township(organization_id, k.as_of)
    return orgs.get(organization_id or "", (None, None))[1]


def _in_force(schemes: dict[str, tuple], township: str | None) -> tuple | None:
    return (schemes.get(township) if township else None) or schemes.get("county")


@routes.query("rating_as_of", reply=RatingAsOf)
async def on_rating_as_of(ctx: Context, q: RatingAsOfQuery) -> dict:
    """A rating as of a business date as known at a recorded time, with each score's provenance."""
    await ctx.service.caught_up(ctx.county, ctx.min_seq)  # the directory (names, townships)
    await check_reader_sees(ctx, q.rated_kind, q.rated_id)
    k = knowledge(q.as_of, q.known_at)
    year = q.year or k.as_of.year
    book = await _book(ctx, q.rated_kind, q.rated_id, year, k)
    places = await _places_of(ctx, book.branch_id if q.rated_kind == "member" else q.rated_id, k)
    branch = places.organization(book.branch_id, k.as_of) if q.rated_kind == "member" else q.rated_id
    orgs = await asyncio.to_thread(_organizations, ctx)
    township = _township(places, orgs, branch, k)
    found = None
    for scope in ([township] if township else []) + [None]:
        subject = subject_for(ctx.county, "ratings", "scheme", scheme_aggregate_id(year, q.rated_kind, scope))
        if found := scheme_as_known(await ctx.service.store.load(ctx.county, subject), k):
            break
    points = book.points_by_category()
    return ok({"rated_kind": q.rated_kind, "rated_id": q.rated_id, "year": year, "as_of": k.as_of.isoformat(),
               "known_at": _iso(k.known_at), "branch_id": branch, "township_id": township,
               "scheme": scheme_provenance(found), "points_by_category": points,
               **rate(found[0] if found else None, points),
               "total_points": sum(points.values()),
               "provenance": [e for e in book.entries if e["effective"]]})


@routes.query("score_history", reply=ScoreHistory)
async def on_score_history(ctx: Context, q: ScoreHistoryQuery) -> dict:
    """积分手册: every score entry of the year in the order recorded, with who revoked it, paged."""
    await ctx.service.caught_up(ctx.county, ctx.min_seq)  # the directory (names, townships)
    await check_reader_sees(ctx, q.rated_kind, q.rated_id)
    k = Knowledge(date.max, q.known_at.astimezone(UTC)) if q.known_at else None
    book = await _book(ctx, q.rated_kind, q.rated_id, q.year, k)
    first = (q.page - 1) * q.page_size
    return ok({"rated_kind": q.rated_kind, "rated_id": q.rated_id, "year": q.year,
               "known_at": _iso(k.known_at) if k else None, "total": len(book.entries), "page": q.page,
               "page_size": q.page_size, "items": book.entries[first:first + q.page_size]})


@routes.query("star_distribution_as_of", reply=StarDistributionAsOf)
async def on_star_distribution_as_of(ctx: Context, q: DistributionAsOfQuery) -> dict:
    """星级分布 as of a business date as known at a recorded time: county, one township or one branch."""
    await ctx.service.caught_up(ctx.county, ctx.min_seq)  # the directory (names, townships)
    k = knowledge(q.as_of, q.known_at)
    year = q.year or k.as_of.year
    books: dict[str, PointsFold] = {}
    async for ev in ctx.service.store.read_matching(ctx.county, f"pb.{ctx.county}.evt.ratings.points.{year}.>",
                                                       bulk=True):  # the county's year: a long read
        fold = books.get(ev.aggregate_id)
        if fold is None:
            fold = books[ev.aggregate_id] = PointsFold(k)
        fold.feed(ev)
    schemes = {kind: await _schemes(ctx, year, kind, k) for kind in ("member", "organization")}
    places = Places()
    async for ev in ctx.service.store.read_matching(ctx.county, f"pb.{ctx.county}.evt.org.organization.>"):
        places.feed((ev,), k)
    orgs = await asyncio.to_thread(_organizations, ctx)
    visible = None if ctx.actor.sees_whole_county else ctx.actor.sees  # their township's or branch's only
    if visible is not None and _filter_outside(ctx, q, orgs):
        raise forbidden(f"{OUTSIDE_READ}: {q.township_id or q.branch_id}")
    return ok(await asyncio.to_thread(_distribution, books, schemes, orgs, places, k, year, q, visible))


def _filter_outside(ctx: Context, q: DistributionAsOfQuery, orgs: dict) -> bool:
    """A township or branch filter naming what the reader may not see (403 rather than an empty answer)."""
    if q.branch_id and not ctx.actor.sees(orgs.get(q.branch_id, (None, None))[1], q.branch_id):
        return True
    if q.township_id:
        mine = ctx.actor.township if ctx.actor.role == "township_operator" else \
            orgs.get(ctx.actor.branch or "", (None, None))[1]
        return q.township_id != mine
    return False


def _distribution(books: dict[str, PointsFold], schemes: dict, orgs: dict, places: Places, k: Knowledge, year: int,
                  q: DistributionAsOfQuery, visible: Callable[[str | None, str | None], bool] | None = None) -> dict:
    """Each member in its branch on D (after merges), each branch in its township on D (asof_places.py)."""
    members: list[tuple[str | None, int]] = []
    own: dict[str, tuple[int, str | None]] = {}
    for aggregate_id, book in books.items():
        _, kind, rated_id = aggregate_id.split(".", 2)
        if not book.scores:
            continue  # nothing known about it then
        branch = places.organization(book.branch_id, k.as_of) if kind == "member" else rated_id
        township = _township(places, orgs, branch, k)
        if (q.township_id and township != q.township_id) or (q.branch_id and branch != q.branch_id) or \
                (visible is not None and not visible(township, branch)):
            continue
        found = _in_force(schemes[kind], township)
        rating = rate(found[0] if found else None, book.points_by_category())
        if kind == "member":
            members.append((branch, rating["total_stars"]))
        else:
            own[rated_id] = (rating["total_stars"], rating["star_class"])
    by_branch: dict[str | None, Counter] = defaultdict(Counter)
    for branch, stars in members:
        by_branch[branch][stars] += 1
    branches = [{"branch_id": b, "name": orgs.get(b, (None, None))[0], "members_rated": sum(by_branch[b].values()),
                 "member_distribution": {str(s): n for s, n in sorted(by_branch[b].items())},
                 "own_stars": own[b][0] if b in own else None, "own_class": own[b][1] if b in own else None}
                for b in sorted({b for b in by_branch if b} | set(own))]
    member_counts, org_counts = Counter(s for _, s in members), Counter(s for s, _ in own.values())
    classes = Counter(c for _, c in own.values() if c)
    return {"year": year, "as_of": k.as_of.isoformat(), "known_at": _iso(k.known_at), "township_id": q.township_id,
            "branch_id": q.branch_id, "events": sum(len(b.scores) + len(b.revoked) for b in books.values()),
            "members": {"rated": len(members), "by_stars": {str(s): n for s, n in sorted(member_counts.items())}},
            "organizations": {"rated": len(own), "by_stars": {str(s): n for s, n in sorted(org_counts.items())},
                              "class_one": classes.get("class_one", 0), "class_two": classes.get("class_two", 0)},
            "branches": branches}
