"""Queries of the rules context: the table in force on a date and every adopted version. The rule
book is one aggregate per county, read from the log (no read-model); other contexts ask
`rules_in_force` for the table their rule needs."""
from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from shared.catalog.rules import RuleTable
from shared.messaging import ok
from shared.aggregate import Repository
from shared.service import Context
from services.organizations.clock import today
from services.organizations.rules.domain import RuleBook


class RulesQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    as_of: date | None = Field(None, description="业务日期；默认今天 / business date; default today")


class RuleVersions(BaseModel):
    as_of: date = Field(description="查询日期 / the date asked about")
    in_force: RuleTable = Field(description="该日生效的规则表 / the table in force on as_of")
    versions: list[RuleTable] = Field(description="本县采用过的各版本 / every version the county adopted")


async def rule_book(ctx: Context, known_at: datetime | None = None) -> RuleBook:
    """The county's rule book; with `known_at`, as it stood then (only versions recorded by that time)."""
    if known_at is None:
        return (await ctx.service.repo.get(ctx.county, RuleBook, ctx.county)).state
    book = RuleBook(ctx.county)
    for ev in await ctx.service.store.load(ctx.county, Repository.subject(ctx.county, RuleBook, ctx.county)):
        if ev.event is not None and ev.recorded_at <= known_at:
            book.apply(ev.event)
    return book


async def rules_in_force(ctx: Context, on: date) -> RuleTable:
    """The county's rule table in force on a date (the national baseline before any adopted one)."""
    return (await rule_book(ctx)).in_force(on)


async def on_rules(ctx: Context, q: RulesQuery) -> dict:
    """The rule table in force on a date (default today) and every adopted version."""
    book, on = await rule_book(ctx), q.as_of or today()
    return ok({"as_of": on.isoformat(), "in_force": book.in_force(on).model_dump(mode="json"),
               "versions": [v.model_dump(mode="json") for v in book.versions]})
