"""Reads of the centres context: centre coverage folded from the county log for any date (live = today),
the standards book, and the rows of the organizations.centres read-model. The only I/O of the context
besides its handlers."""
from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

from sqlalchemy import select

from shared.catalog.organizations import TownshipAdded
from shared.service import Context
from services.organizations import scope
from services.organizations.centres.coverage import coverage, places_as_of
from services.organizations.centres.domain import CentreStandardsBook, fold_as_of
from services.organizations.centres.projections.centres import CentresProjection
from services.organizations.registry.domain import County


async def standards_book(ctx: Context) -> CentreStandardsBook:
    return (await ctx.service.repo.get(ctx.county, CentreStandardsBook, ctx.county)).state


async def _events(ctx: Context, aggregate: str) -> list:
    return [ev.event async for ev in ctx.service.store.read_matching(ctx.county, f"pb.{ctx.county}.evt.org.{aggregate}.>")]


async def coverage_as_of(ctx: Context, on: date) -> dict[str, Any]:
    """The centres, townships, villages and communities as they stood on `on` (business dates), counted
    against the standards in force on `on` — the county's, or a township operator's own township's."""
    scope.check_not_branch_secretary_read(ctx.actor, "党群服务中心覆盖情况 / centre coverage")
    centre_events, organization_events, township_events, county, book = await asyncio.gather(
        _events(ctx, "centre"), _events(ctx, "organization"), _events(ctx, "township"),
        ctx.service.repo.get(ctx.county, County, ctx.county), standards_book(ctx))
    townships = {e.township_id: e.name for e in township_events if isinstance(e, TownshipAdded)}
    places = places_as_of(ctx.county, county.state.name or ctx.county, townships, organization_events, on)
    centres = fold_as_of(centre_events, on).values()
    if not ctx.actor.sees_whole_county:  # a township's own figures (README: Read rules)
        places = [p for p in places if p.level != "county" and p.township_id == ctx.actor.township]
        centres = [c for c in centres if c.township_id == ctx.actor.township]
    return coverage(centres, places, book.in_force(on), on)


def rows(ctx: Context, table: str, **where: Any) -> list[dict]:
    """Rows of the read-model's `table` ("centres" or "upgrades") of the county (run in a worker thread)."""
    t = getattr(ctx.service.projection(CentresProjection), table)
    stmt = select(t).where(t.c.county == ctx.county, *(t.c[k] == v for k, v in where.items() if v is not None))
    with ctx.service.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(stmt)]
