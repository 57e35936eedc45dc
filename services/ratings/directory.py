"""Where a rated member or organization sits (branch, township), read from ratings' own directory
tables (folded from organizations' events in the same county log).

A member registered a moment ago may not be folded yet: on a miss we wait until the projection has
reached the end of the log once, then answer for certain."""
from __future__ import annotations

import asyncio

from sqlalchemy import select

from shared.errors import not_found
from shared.service import Context


async def placement(ctx: Context, rated_kind: str, rated_id: str) -> tuple[str | None, str | None]:
    from services.ratings.projections.stars import StarsProjection

    cached = ctx.service.projection(StarsProjection).placements.get((ctx.county, rated_kind, rated_id))
    found = cached or await asyncio.to_thread(_lookup, ctx, rated_kind, rated_id)
    if found is None:
        await ctx.service.caught_up(ctx.county, await ctx.service.store.last_seq(ctx.county))
        found = await asyncio.to_thread(_lookup, ctx, rated_kind, rated_id)
    if found is None:
        what = "党员" if rated_kind == "member" else "党组织"
        raise not_found(f"{rated_kind}_not_found", f"本县无此{what} / {rated_kind} {rated_id} not found in this county",
                        "rated_id")
    return found


def _lookup(ctx: Context, rated_kind: str, rated_id: str) -> tuple[str | None, str | None] | None:
    from services.ratings.projections.stars import StarsProjection

    p: StarsProjection = ctx.service.projection(StarsProjection)
    cache_key = (ctx.county, rated_kind, rated_id)
    if cache_key in p.placements:
        return p.placements[cache_key]
    o, m = p.organizations.c, p.members.c
    with ctx.service.engine.connect() as conn:
        if rated_kind == "member":
            row = conn.execute(select(m.branch_id, o.township_id).select_from(
                p.members.outerjoin(p.organizations, (o.county == m.county) & (o.organization_id == m.branch_id)))
                .where(m.county == ctx.county, m.member_id == rated_id)).first()
        else:
            row = conn.execute(select(o.organization_id, o.township_id).where(
                o.county == ctx.county, o.organization_id == rated_id)).first()
    if row is None:
        return None
    p.placements[cache_key] = (row[0], row[1])
    return row[0], row[1]
