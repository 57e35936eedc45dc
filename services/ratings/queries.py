"""Query handlers of the ratings service: read the star read-model (after read-your-writes wait)."""
from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select

from shared.errors import not_found
from shared.messaging import ok
from shared.service import Context, Routes
from services.ratings.projections.stars import StarsProjection


class RatingQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rated_id: str = Field(min_length=1, max_length=64)
    year: int = Field(ge=2000, le=2100)


class YearQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    year: int = Field(ge=2000, le=2100)


class SchemeQuery(YearQuery):
    rated_kind: str = Field("member", pattern="^(member|organization)$")
    township_id: str | None = None


def _proj(ctx: Context) -> StarsProjection:
    return ctx.service.projection(StarsProjection)


async def _read(ctx: Context, fn, *args) -> Any:
    await ctx.service.caught_up(ctx.county, ctx.min_seq)
    return await asyncio.to_thread(fn, ctx, *args)


async def find_score(ctx: Context, score_id: str) -> dict | None:
    """A score row; on a miss wait until the projection reached the end of the log, then look again."""
    found = await _read(ctx, _score_row, score_id)
    if found is None:
        await ctx.service.caught_up(ctx.county, await ctx.service.store.last_seq(ctx.county))
        found = await asyncio.to_thread(_score_row, ctx, score_id)
    return found


def _score_row(ctx: Context, score_id: str) -> dict | None:
    s = _proj(ctx).scores.c
    with ctx.service.engine.connect() as conn:
        row = conn.execute(select(_proj(ctx).scores).where(s.county == ctx.county, s.score_id == score_id)).first()
    return dict(row._mapping) if row else None


def _rating(ctx: Context, rated_kind: str, q: RatingQuery) -> dict | None:
    p = _proj(ctx)
    st, sc = p.stars.c, p.scores.c
    with ctx.service.engine.connect() as conn:
        row = conn.execute(select(p.stars).where(st.county == ctx.county, st.rated_kind == rated_kind,
                                                 st.rated_id == q.rated_id, st.year == q.year)).first()
        scores = conn.execute(select(sc.score_id, sc.category, sc.points, sc.reason, sc.evidence_ref, sc.occurred_on,
                                     sc.actor, sc.revoked, sc.revoke_reason)
                              .where(sc.county == ctx.county, sc.rated_kind == rated_kind, sc.rated_id == q.rated_id,
                                     sc.year == q.year).order_by(sc.seq)).all()
        if row is None:
            exists = _exists(conn, p, ctx.county, rated_kind, q.rated_id)
            if not exists:
                return None
    stars = orjson.loads(row.stars) if row else []
    return {
        "rated_kind": rated_kind, "rated_id": q.rated_id, "year": q.year,
        "branch_id": row.branch_id if row else None, "township_id": row.township_id if row else None,
        "points_by_category": {s["category"]: s["points"] for s in stars},
        "stars": stars, "total_stars": row.total_stars if row else 0,
        "star_class": row.star_class if row else None,
        "total_points": sum(s.points for s in scores if not s.revoked),
        "scores": [{**dict(s._mapping), "occurred_on": s.occurred_on.isoformat()} for s in scores],
    }


def _exists(conn, p: StarsProjection, county: str, rated_kind: str, rated_id: str) -> bool:
    if rated_kind == "member":
        t, key = p.members, p.members.c.member_id
    else:
        t, key = p.organizations, p.organizations.c.organization_id
    return conn.execute(select(func.count()).select_from(t).where(t.c.county == county, key == rated_id)).scalar() > 0


def _distribution(ctx: Context, year: int) -> dict:
    p = _proj(ctx)
    st, o = p.stars.c, p.organizations.c
    with ctx.service.engine.connect() as conn:
        member_rows = conn.execute(select(st.branch_id, st.total_stars).where(
            st.county == ctx.county, st.year == year, st.rated_kind == "member")).all()
        org_rows = conn.execute(select(st.rated_id, st.total_stars, st.star_class, o.name, o.township_id)
                                .select_from(p.stars.outerjoin(p.organizations, (o.county == st.county)
                                                               & (o.organization_id == st.rated_id)))
                                .where(st.county == ctx.county, st.year == year,
                                       st.rated_kind == "organization")).all()
        names = dict(conn.execute(select(o.organization_id, o.name).where(o.county == ctx.county)).all())
    by_branch: dict[str, Counter] = defaultdict(Counter)
    for branch, stars in member_rows:
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
    members = Counter(stars for _, stars in member_rows)
    orgs = Counter(r.total_stars for r in org_rows)
    classes = Counter(r.star_class for r in org_rows if r.star_class)
    return {
        "year": year,
        "members": {"rated": len(member_rows), "by_stars": {str(k): v for k, v in sorted(members.items())}},
        "organizations": {"rated": len(org_rows), "by_stars": {str(k): v for k, v in sorted(orgs.items())},
                          "class_one": classes.get("class_one", 0), "class_two": classes.get("class_two", 0)},
        "branches": branches,
    }


def _scheme(ctx: Context, q: SchemeQuery) -> dict | None:
    s = _proj(ctx).schemes.c
    with ctx.service.engine.connect() as conn:
        row = conn.execute(select(s.definition).where(s.county == ctx.county, s.year == q.year,
                                                      s.rated_kind == q.rated_kind,
                                                      s.scope == (q.township_id or "county"))).first()
    return orjson.loads(row.definition) if row else None


def register(routes: Routes) -> None:
    @routes.query("member_rating")
    async def on_member_rating(ctx: Context) -> dict:
        """One member's points by category, lit stars with colours, total stars, for a year."""
        q = RatingQuery.model_validate({"rated_id": ctx.data.get("member_id"), "year": ctx.data.get("year")})
        found = await _read(ctx, _rating, "member", q)
        if found is None:
            raise not_found("member_not_found", f"本县无此党员 / member {q.rated_id} not found", "member_id")
        return ok(found)

    @routes.query("organization_rating")
    async def on_organization_rating(ctx: Context) -> dict:
        """One organization's own points handbook and star level (一村一册), for a year."""
        q = RatingQuery.model_validate({"rated_id": ctx.data.get("organization_id"), "year": ctx.data.get("year")})
        found = await _read(ctx, _rating, "organization", q)
        if found is None:
            raise not_found("organization_not_found", f"本县无此党组织 / organization {q.rated_id} not found",
                            "organization_id")
        return ok(found)

    @routes.query("star_distribution")
    async def on_star_distribution(ctx: Context) -> dict:
        """County counts by star level, each branch's member distribution and own level, 一类/二类."""
        q = YearQuery.model_validate(ctx.data)
        return ok(await _read(ctx, _distribution, q.year))

    @routes.query("get_scheme")
    async def on_get_scheme(ctx: Context) -> dict:
        """The star scheme defined for a year (county-wide or one township's)."""
        q = SchemeQuery.model_validate(ctx.data)
        found = await _read(ctx, _scheme, q)
        if found is None:
            raise not_found("no_star_scheme", f"{q.year}年度尚未设星 / no star scheme for {q.year}", "year")
        return ok(found)
