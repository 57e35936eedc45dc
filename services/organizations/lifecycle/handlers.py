"""Handlers of an organization's life after founding (rename, upgrade, transfer whole, merge,
dissolve, restore) and its elections (换届). Each checks who may act, loads what the rule needs and
lets the executor decide and append; the subjects are listed once, in HANDLERS at the end."""
from __future__ import annotations

from shared.aggregate import Aggregate
from shared.errors import forbidden
from shared.messaging import ok
from shared.service import Context
from services.organizations import scope
from services.organizations.clock import today
from services.organizations.lifecycle import domain as lc
from services.organizations.lifecycle import queries
from services.organizations.lifecycle.commands import (DissolveOrganization, ElectCommittee, ElectionResult,
                                                       MergeOrganization, MergeResult, OrganizationChange,
                                                       PostponeElection, RenameOrganization, RestoreOrganization,
                                                       TransferOrganization, UpgradeOrganization)
from services.organizations.lifecycle.elections import elect_committee, postpone_election
from services.organizations.registry.domain import Member, Organization, Township
from services.organizations.registry.queries import member_ids_of, organization_counts
from services.organizations.rules.queries import rules_in_force


async def on_rename_organization(ctx: Context, cmd: RenameOrganization) -> dict:
    """更名 (with upper approval)."""
    ctx.require_county_department()
    day = today()
    return await _change(ctx, cmd.organization_id, lambda o: lc.rename(o, cmd, today=day))


async def on_upgrade_organization(ctx: Context, cmd: UpgradeOrganization) -> dict:
    """升格 (党支部→党总支→基层党委), setting rules checked on its member count."""
    ctx.require_county_department()
    _, total, _ = await organization_counts(ctx, cmd.organization_id)
    day = today()
    table = await rules_in_force(ctx, day)
    return await _change(ctx, cmd.organization_id, lambda o: lc.upgrade(o, cmd, member_count=total, rules=table,
                                                                        today=day))


async def on_transfer_organization(ctx: Context, cmd: TransferOrganization) -> dict:
    """整建制转移 under another parent (and township)."""
    ctx.require_county_department()
    _, _, parents = await organization_counts(ctx, cmd.organization_id)
    parent = await _state(ctx, Organization, cmd.to_parent_id) if cmd.to_parent_id else None
    township = await _state(ctx, Township, cmd.to_township_id) if cmd.to_township_id else None
    day = today()
    return await _change(ctx, cmd.organization_id, lambda o: lc.transfer(
        o, cmd, new_parent=parent, township=township, parent_of=parents.get, today=day))


async def on_dissolve_organization(ctx: Context, cmd: DissolveOrganization) -> dict:
    """撤销 (restorable)."""
    ctx.require_county_department()
    day = today()
    return await _change(ctx, cmd.organization_id, lambda o: lc.dissolve(o, cmd, today=day))


async def on_restore_organization(ctx: Context, cmd: RestoreOrganization) -> dict:
    """恢复 a dissolved organization."""
    ctx.require_county_department()
    day = today()
    return await _change(ctx, cmd.organization_id, lambda o: lc.restore(o, cmd, today=day))


async def on_merge_organization(ctx: Context, cmd: MergeOrganization) -> dict:
    """合并: this organization is absorbed; its members move with it, all in one atomic batch."""
    ctx.require_county_department()
    member_ids = await member_ids_of(ctx, cmd.organization_id)
    refs = [(Organization, cmd.organization_id), (Organization, cmd.into_organization_id)]
    refs += [(Member, m) for m in member_ids]
    day = today()

    def decide(states: list[Aggregate]):
        absorbed = next(s for s in states if isinstance(s, Organization) and s.id == cmd.organization_id)
        into = next((s for s in states if isinstance(s, Organization) and s.id == cmd.into_organization_id), None)
        members = [s for s in states if isinstance(s, Member)]
        return lc.merge(absorbed, cmd, into=into, members=members, today=day)
    out = await ctx.service.repo.execute_many(ctx.county, ctx.meta, refs, decide)
    return ok(out.result, out.seq)


async def on_elect_committee(ctx: Context, cmd: ElectCommittee) -> dict:
    """换届选举: committee (or secretary only) and its term from the rules in force. A township operator
    records elections of their own township's organizations only."""
    ctx.require_write()
    if ctx.actor.role == "branch_secretary":
        raise forbidden("支部书记不能登记换届结果 / branch secretaries do not record elections")
    organization = await _state(ctx, Organization, cmd.organization_id)
    if organization.exists:
        scope.check_in_township(ctx.actor, organization.township_id,
                                "乡镇操作员只能登记本乡镇党组织的换届 / a township operator records elections of "
                                "their own township only")
    full, _, _ = await organization_counts(ctx, cmd.organization_id)
    day = today()
    table = await rules_in_force(ctx, day)
    out = await ctx.service.repo.execute(
        ctx.county, Organization, cmd.organization_id, ctx.meta,
        lambda o: elect_committee(o, cmd, full_members=full, rules=table, today=day),
        result=lambda o, _: ElectionResult(organization_id=o.id, term_ends_on=o.term_ends_on,
                                           secretary_only=o.secretary_only))
    return ok(out.result, out.seq)


async def on_postpone_election(ctx: Context, cmd: PostponeElection) -> dict:
    """延期/提前换届 with approval (normally within a year)."""
    ctx.require_county_department()
    day = today()
    table = await rules_in_force(ctx, day)
    return await _change(ctx, cmd.organization_id, lambda o: postpone_election(o, cmd, rules=table, today=day))


async def _change(ctx: Context, organization_id: str, decide) -> dict:
    out = await ctx.service.repo.execute(ctx.county, Organization, organization_id, ctx.meta, decide)
    return ok(OrganizationChange(organization_id=organization_id), out.seq)


async def _state(ctx: Context, cls: type[Aggregate], aggregate_id: str):
    return (await ctx.service.repo.get(ctx.county, cls, aggregate_id)).state


HANDLERS = (  # (kind, name, handler, reply): subject pb.<county>.<kind>.organizations.<name>
    ("cmd", "rename_organization", on_rename_organization, OrganizationChange),
    ("cmd", "upgrade_organization", on_upgrade_organization, OrganizationChange),
    ("cmd", "transfer_organization", on_transfer_organization, OrganizationChange),
    ("cmd", "dissolve_organization", on_dissolve_organization, OrganizationChange),
    ("cmd", "restore_organization", on_restore_organization, OrganizationChange),
    ("cmd", "merge_organization", on_merge_organization, MergeResult),
    ("cmd", "elect_committee", on_elect_committee, ElectionResult),
    ("cmd", "postpone_election", on_postpone_election, OrganizationChange),
    ("qry", "election_reminders", queries.on_election_reminders, queries.ElectionReminders),
)
