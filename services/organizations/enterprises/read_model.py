"""Reads of the 两新组织 the enterprises context needs: the units of the organizations.coverage
read-model, the credit codes they hold, and the units' events in the log (for figures as of a past
date). The only SQL of the enterprises context."""
from __future__ import annotations

import asyncio
import weakref
from datetime import datetime

from sqlalchemy import select

from shared.service import Context
from services.organizations.enterprises.domain import EnterpriseState
from services.organizations.enterprises.projections.coverage import CoverageProjection
from services.organizations.enterprises.projections.coverage_rows import state_from_row

COVERAGE = "organizations.coverage"


def live_states(ctx: Context) -> list[EnterpriseState]:
    """Every unit of the county as the read-model holds it now (run in a worker thread)."""
    p = ctx.service.projection(CoverageProjection)
    with ctx.service.engine.connect() as conn:
        rows = conn.execute(select(p.units).where(p.units.c.county == ctx.county)).all()
    return [state_from_row(r) for r in rows]


async def uscc_holders(ctx: Context, usccs: list[str] | None = None) -> dict[str, str]:
    """Credit code → the unit of the county holding it, per the read-model at the end of the log
    (only the codes asked for, or all)."""
    await ctx.service.caught_up(ctx.county, await ctx.service.store.last_seq(ctx.county), COVERAGE)
    p = ctx.service.projection(CoverageProjection)

    def look(ctx: Context) -> dict[str, str]:
        u = p.units.c
        stmt = select(u.uscc, u.enterprise_id).where(u.county == ctx.county)
        if usccs is not None:
            stmt = stmt.where(u.uscc.in_(usccs))
        with ctx.service.engine.connect() as conn:
            return dict(conn.execute(stmt).all())
    return await asyncio.to_thread(look, ctx)


async def enterprise_events(ctx: Context, known_at: datetime | None = None) -> list:
    """Every 两新组织 event of the county, in log order (Direct Get batches on the unit subjects); with
    `known_at`, only those recorded by then (what the county knew at that time).

    Without `known_at` the list is shared by the requests of one coverage read-model checkpoint (a
    drill-down asks for the as-of figures and the monthly series at once; the next page view reuses
    it): read once the read-model has reached the client's own writes, read again once it moves on.
    Kept for the last few counties asked only — a county's list is tens of megabytes."""
    runner = ctx.service.runners.get((COVERAGE, ctx.county))
    if known_at is not None or runner is None:
        return [ev.event async for ev in _unit_events(ctx) if known_at is None or ev.recorded_at <= known_at]
    await ctx.service.caught_up(ctx.county, ctx.min_seq)
    cache: dict[str, tuple[int, asyncio.Future]] = _events_cache.setdefault(ctx.service, {})
    held = cache.get(ctx.county)
    if held is None or held[0] != runner.checkpoint:
        held = (runner.checkpoint, asyncio.ensure_future(_all_unit_events(ctx)))
        cache.pop(ctx.county, None)
        cache[ctx.county] = held  # last asked last: the oldest county goes first
        while len(cache) > EVENT_LISTS_KEPT:
            del cache[next(iter(cache))]
    try:
        return await asyncio.shield(held[1])
    except Exception:
        if cache.get(ctx.county) is held:
            del cache[ctx.county]  # a failed read is not kept
        raise


EVENT_LISTS_KEPT = 4
_events_cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # per service object


def _unit_events(ctx: Context):
    return ctx.service.store.read_matching(ctx.county, f"pb.{ctx.county}.evt.org.enterprise.>")


async def _all_unit_events(ctx: Context) -> list:
    return [ev.event async for ev in _unit_events(ctx)]
