"""Query handlers of the ratings service: read the star read-model (after the read-your-writes wait).
Each takes its query, validated once with the request, as its second parameter."""
from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from datetime import date, datetime
from zoneinfo import ZoneInfo
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select

from shared.catalog.ratings import RatedKind
from shared.errors import forbidden, not_found
from shared.messaging import ok
from shared.routes import Context, Routes
from services.ratings.commands import RatingYearNumber, Token
from services.ratings.projections.stars import StarsProjection
from services.ratings.projections.stars_rows import scheme_definition
from services.ratings.replies import Rating, SchemeView, StarDistribution
from services.ratings.standing import GOOD, Changes, county_changes, standing_on

routes = Routes("ratings")
CHINA = ZoneInfo("Asia/Shanghai")
OUTSIDE_READ = "无权查看本乡镇（本支部）以外的数据 / outside your township or branch"


class _Query(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MemberRatingQuery(_Query):
    """A member's points handbook and stars for a year."""

    member_id: Token = Field(description="the member")
    year: RatingYearNumber


class OrganizationRatingQuery(_Query):
    """An organization's own points handbook and stars for a year."""

    organization_id: Token = Field(description="the organization")
    year: RatingYearNumber


class DistributionQuery(_Query):
    """The county's star distribution for a year."""

    year: RatingYearNumber
    as_of: date | None = Field(None, description="members not in good standing on this date are left out; "
                                                 "default today, or the year's last day for a past year")


class SchemeQuery(_Query):
    """The star scheme defined for a year, rated kind and scope."""

    year: RatingYearNumber
    rated_kind: RatedKind = Field("member", description="member 党员 or organization 党组织")
    township_id: Token | None = Field(None, description="a township's own scheme; none: the county's")


def today() -> date:
    """Business dates are China Standard Time (a score 'today' at 07:00 Beijing is not yesterday)."""
    return datetime.now(CHINA).date()


def _proj(ctx: Context) -> StarsProjection:
    return ctx.service.projection(StarsProjection)


async def read(ctx: Context, fn, *args) -> Any:
    await ctx.service.caught_up(ctx.county, ctx.min_seq)
    return await asyncio.to_thread(fn, ctx, *args)


async def find_score(ctx: Context, score_id: str) -> dict | None:
    """A score row; on a miss wait until the projection reached the end of the log, then look again."""
    found = await read(ctx, _score_row, score_id)
    if found is None:
        await ctx.service.caught_up(ctx.county, await ctx.service.store.last_seq(ctx.county))
        found = await asyncio.to_thread(_score_row, ctx, score_id)
    return found


def _score_row(ctx: Context, score_id: str) -> dict | None:
    s = _proj(ctx).scores.c
    with ctx.service.engine.connect() as conn:
        row = conn.execute(select(_proj(ctx).scores).where(s.county == ctx.county, s.score_id == score_id)).first()
    return dict(row._mapping) if row else None


def _rating(ctx: Context, rated_kind: str, rated_id: str, year: int) -> Rating | None:
    p = _proj(ctx)
    st, sc = p.stars.c, p.scores.c
    with ctx.service.engine.connect() as conn:
        row = conn.execute(select(p.stars).where(st.county == ctx.county, st.rated_kind == rated_kind,
                                                 st.rated_id == rated_id, st.year == year)).first()
        scores = conn.execute(select(sc.score_id, sc.category, sc.points, sc.reason, sc.evidence_ref, sc.occurred_on,
                                     sc.actor, sc.revoked, sc.revoke_reason)
                              .where(sc.county == ctx.county, sc.rated_kind == rated_kind, sc.rated_id == rated_id,
                                     sc.year == year).order_by(sc.seq)).all()
        if row is None:
            exists = _exists(conn, p, ctx.county, rated_kind, rated_id)
            if not exists:
                return None
        if not ctx.actor.sees_whole_county and not ctx.actor.sees(*_place(conn, p, ctx.county, rated_kind, rated_id)):
            raise forbidden(f"{OUTSIDE_READ}: {rated_kind} {rated_id}")  # README: Read rules
    # a row written before earning thresholds existed has no "earned": there a coloured star was earned
    stars = [{"earned": s["colour"] is not None, **s} for s in orjson.loads(row.stars)] if row else []
    return Rating.model_validate({
        "rated_kind": rated_kind, "rated_id": rated_id, "year": year,
        "branch_id": row.branch_id if row else None, "township_id": row.township_id if row else None,
        "points_by_category": {s["category"]: s["points"] for s in stars},
        "stars": stars, "total_stars": row.total_stars if row else 0,
        "star_class": row.star_class if row else None,
        "total_points": sum(s.points for s in scores if not s.revoked),
        "scores": [dict(s._mapping) for s in scores],
    })


def _exists(conn, p: StarsProjection, county: str, rated_kind: str, rated_id: str) -> bool:
    if rated_kind == "member":
        t, key = p.members, p.members.c.member_id
    else:
        t, key = p.organizations, p.organizations.c.organization_id
    return conn.execute(select(func.count()).select_from(t).where(t.c.county == county, key == rated_id)).scalar() > 0


def _place(conn, p: StarsProjection, county: str, rated_kind: str, rated_id: str) -> tuple[str | None, str | None]:
    """(township, holding organization) of a member (their branch) or an organization (itself)."""
    branch = rated_id if rated_kind == "organization" else conn.execute(select(p.members.c.branch_id).where(
        p.members.c.county == county, p.members.c.member_id == rated_id)).scalar()
    o = p.organizations.c
    township = conn.execute(select(o.township_id).where(o.county == county, o.organization_id == branch)).scalar()
    return township, branch


def distribution(ctx: Context, year: int, as_of: date, standings: dict[str, Changes]) -> StarDistribution:
    """Members not in good standing on `as_of` (services/ratings/standing.py) are not counted."""
    p = _proj(ctx)
    st, o = p.stars.c, p.organizations.c
    with ctx.service.engine.connect() as conn:
        member_rows = conn.execute(select(st.branch_id, st.total_stars, st.township_id, st.rated_id).where(
            st.county == ctx.county, st.year == year, st.rated_kind == "member")).all()
        org_rows = conn.execute(select(st.rated_id, st.total_stars, st.star_class, o.name, o.township_id)
                                .select_from(p.stars.outerjoin(p.organizations, (o.county == st.county)
                                                               & (o.organization_id == st.rated_id)))
                                .where(st.county == ctx.county, st.year == year,
                                       st.rated_kind == "organization")).all()
        names = dict(conn.execute(select(o.organization_id, o.name).where(o.county == ctx.county)).all())
    member_rows = [r for r in member_rows if r.rated_id not in standings
                   or standing_on(standings[r.rated_id], as_of)[0] == GOOD]
    if not ctx.actor.sees_whole_county:  # their township's or branch's figures only (README: Read rules)
        member_rows = [r for r in member_rows if ctx.actor.sees(r.township_id, r.branch_id)]
        org_rows = [r for r in org_rows if ctx.actor.sees(r.township_id, r.rated_id)]
    by_branch: dict[str, Counter] = defaultdict(Counter)
    for branch, stars, _, _ in member_rows:
        by_branch[branch][stars] += 1
    own = {r.rated_id: r for r in org_rows}
    branches = []
    for branch_id in sorted(set(by_branch) | set(own)):
        dist = by_branch.get(branch_id, Counter())
        r = own.get(branch_id)
        branches.append({"branch_id": branch_id, "name": names.get(branch_id),
                         "members_rated": sum(dist.values()),
                         "member_distribution": {str(k): v for k, v in sorted(dist.items())},
                         "own_stars": r.total_stars if r else None, "own_class": r.star_class if r else None})
    members = Counter(r.total_stars for r in member_rows)
    orgs = Counter(r.total_stars for r in org_rows)
    classes = Counter(r.star_class for r in org_rows if r.star_class)
    return StarDistribution.model_validate({
        "year": year,
        "members": {"rated": len(member_rows), "by_stars": {str(k): v for k, v in sorted(members.items())}},
        "organizations": {"rated": len(org_rows), "by_stars": {str(k): v for k, v in sorted(orgs.items())},
                          "class_one": classes.get("class_one", 0), "class_two": classes.get("class_two", 0)},
        "branches": branches,
    })


def _scheme(ctx: Context, q: SchemeQuery) -> SchemeView | None:
    s = _proj(ctx).schemes.c
    with ctx.service.engine.connect() as conn:
        if q.township_id and not ctx.actor.sees_whole_county:  # another township's scheme: its own people's
            own = ctx.actor.township if ctx.actor.role == "township_operator" else \
                _place(conn, _proj(ctx), ctx.county, "organization", ctx.actor.branch or "")[0]
            if q.township_id != own:
                raise forbidden(f"{OUTSIDE_READ}: township {q.township_id}")
        row = conn.execute(select(s.definition).where(s.county == ctx.county, s.year == q.year,
                                                      s.rated_kind == q.rated_kind,
                                                      s.scope == (q.township_id or "county"))).first()
    return SchemeView.model_validate(scheme_definition(row.definition).model_dump()) if row else None


@routes.query("member_rating", reply=Rating)
async def on_member_rating(ctx: Context, q: MemberRatingQuery) -> dict:
    """One member's points by category, stars with colours, earned stars, for a year."""
    found = await read(ctx, _rating, "member", q.member_id, q.year)
    if found is None:
        raise not_found("member_not_found", f"本县无此党员 / member {q.member_id} not found", "member_id")
    return ok(found)


@routes.query("organization_rating", reply=Rating)
async def on_organization_rating(ctx: Context, q: OrganizationRatingQuery) -> dict:
    """One organization's own points handbook and star level (一村一册), for a year."""
    found = await read(ctx, _rating, "organization", q.organization_id, q.year)
    if found is None:
        raise not_found("organization_not_found", f"本县无此党组织 / organization {q.organization_id} not found",
                        "organization_id")
    return ok(found)


@routes.query("star_distribution", reply=StarDistribution)
async def on_star_distribution(ctx: Context, q: DistributionQuery) -> dict:
    """County counts by star level, each branch's member distribution and own level, 一类/二类."""
    return ok(await distribution_of(ctx, q.year, q.as_of))


async def distribution_of(ctx: Context, year: int, as_of: date | None = None) -> StarDistribution:
    """As of a date: by default today, or the last day of a past year."""
    as_of = as_of or min(today(), date(year, 12, 31))
    await ctx.service.caught_up(ctx.county, ctx.min_seq)  # the standings read-model too
    return await read(ctx, distribution, year, as_of, await county_changes(ctx))


@routes.query("get_scheme", reply=SchemeView)
async def on_get_scheme(ctx: Context, q: SchemeQuery) -> dict:
    """The star scheme defined for a year (county-wide or one township's)."""
    found = await read(ctx, _scheme, q)
    if found is None:
        raise not_found("no_star_scheme", f"{q.year}年度尚未设星 / no star scheme for {q.year}", "year")
    return ok(found)
