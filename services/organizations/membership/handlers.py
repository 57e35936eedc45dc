"""Handler of 党籍异动; the subjects are listed once, in HANDLERS at the end.

Who records what: a death or leaving (出党) by the member's branch secretary, their township's operator
or the county; an expulsion, suspension or restoration — decisions of the organizations above the
branch — by the township or the county."""
from __future__ import annotations

from shared.messaging import ok
from shared.service import Context
from services.organizations import scope
from services.organizations.clock import today
from services.organizations.contracts import Workbook
from services.organizations.membership import queries
from services.organizations.membership.commands import ChangeStanding, StandingChanged
from services.organizations.membership.domain import NEW_STANDING, UPPER_DECISIONS, change_standing
from services.organizations.registry.domain import Member, Organization


async def on_change_standing(ctx: Context, cmd: ChangeStanding) -> dict:
    """党籍异动: the member's standing changes; counts follow (only members in good standing count)."""
    ctx.require_write()
    if cmd.change in UPPER_DECISIONS:
        scope.check_not_branch_secretary(ctx.actor, "开除、停止或恢复党籍由上级党组织决定，由乡镇或县委组织部登记 / "
                                                    "expulsions, suspensions and restorations are recorded by the "
                                                    "township or the county")
    member = (await ctx.service.repo.get(ctx.county, Member, cmd.member_id)).state
    if member.exists:
        branch = (await ctx.service.repo.get(ctx.county, Organization, member.branch_id)).state
        scope.check_may_manage_branch(ctx.actor, branch)
    day = today()
    out = await ctx.service.repo.execute(ctx.county, Member, cmd.member_id, ctx.meta,
                                         lambda m: change_standing(m, cmd, today=day))
    return ok(StandingChanged(member_id=cmd.member_id, standing=NEW_STANDING[cmd.change]), out.seq)


HANDLERS = (  # (kind, name, handler, reply): subject pb.<county>.<kind>.organizations.<name>
    ("cmd", "change_standing", on_change_standing, StandingChanged),
    ("qry", "standing_changes", queries.on_standing_changes, queries.StandingChangeList),
    ("qry", "standing_changes_export", queries.on_standing_changes_export, Workbook),
)
