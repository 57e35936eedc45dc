"""Handlers of the county rule table (规则表); the subjects are listed once, in HANDLERS at the end."""
from __future__ import annotations

from shared.messaging import ok
from shared.service import Context
from services.organizations.rules import queries
from services.organizations.rules.commands import AdoptRules, RulesEffective
from services.organizations.rules.domain import RuleBook


async def on_adopt_rules(ctx: Context, table: AdoptRules) -> dict:
    """采用规则表: thresholds, term lengths, weak-reason list, qualifying units and targets, effective
    from a date."""
    ctx.require_county_department("只有县委组织部可以设定规则 / only the county department sets rules")
    out = await ctx.service.repo.execute(ctx.county, RuleBook, ctx.county, ctx.meta, lambda b: b.adopt(table.table()))
    return ok(RulesEffective(effective_from=table.effective_from), out.seq)


HANDLERS = (  # (kind, name, handler, reply): subject pb.<county>.<kind>.organizations.<name>
    ("cmd", "adopt_rules", on_adopt_rules, RulesEffective),
    ("qry", "rules", queries.on_rules, queries.RuleVersions),
)
