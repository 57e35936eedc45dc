"""Queries of the lifecycle: election reminders (换届提醒), read from the registry's organization rows
(the lifecycle's events are folded there: terms, due dates, status)."""
from __future__ import annotations

import asyncio
from datetime import date

from pydantic import BaseModel, Field
from sqlalchemy import select

from shared.messaging import ok
from shared.service import Context
from services.organizations.clock import today
from services.organizations.contracts import NoParameters
from services.organizations.lifecycle.elections import ElectionStatus, add_months
from services.organizations.registry.projections.registry import RegistryProjection


class ElectionReminder(BaseModel):
    organization_id: str
    name: str
    organization_type: str
    township_id: str | None = None
    election_due_on: date | None = Field(description="换届期限 / election due (term end or the approved date)")
    term_ends_on: date | None = Field(description="任期届满 / end of the current term")
    status: str = Field(description="active")
    reminder: ElectionStatus = Field(description="overdue / due_in_3_months / due_in_6_months / no_term_recorded")


class ElectionReminders(BaseModel):
    items: list[ElectionReminder] = Field(description="按换届期限 / by due date (no term recorded first)")


async def on_election_reminders(ctx: Context, q: NoParameters) -> dict:
    """换届提醒: terms ending within 6 months, overdue, or not recorded at all."""
    await ctx.service.caught_up(ctx.county, ctx.min_seq)
    return ok({"items": await asyncio.to_thread(_reminders, ctx, today())})


def reminder_for(due: date | None, day: date) -> ElectionStatus | None:
    """Which reminder an organization due on `due` gets on `day` (None: not due within 6 months)."""
    if due is None:
        return "no_term_recorded"
    if due < day:
        return "overdue"
    if due <= add_months(day, 3):
        return "due_in_3_months"
    if due <= add_months(day, 6):
        return "due_in_6_months"
    return None


def _reminders(ctx: Context, day: date) -> list[dict]:
    o = ctx.service.projection(RegistryProjection).organizations.c
    with ctx.service.engine.connect() as conn:
        rows = conn.execute(select(o.organization_id, o.name, o.organization_type, o.township_id,
                                   o.election_due_on, o.term_ends_on, o.status).where(
            o.county == ctx.county, o.status == "active", o.organization_type != "party_group")).all()
    out = []
    for r in rows:
        if not ctx.actor.sees(r.township_id, r.organization_id):  # README: Read rules
            continue
        status = reminder_for(r.election_due_on, day)
        if status is not None:
            out.append({k: v.isoformat() if isinstance(v, date) else v for k, v in r._mapping.items()}
                       | {"reminder": status})
    return sorted(out, key=lambda r: (r["election_due_on"] or "", r["name"]))
