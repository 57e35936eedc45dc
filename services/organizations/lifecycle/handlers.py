"""Commands of organization lifecycle (rename, upgrade, transfer whole, merge, dissolve, restore,
committees and terms), classification (分类定级) and rectification of weak organizations (整顿)."""
from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from shared.auth import COUNTY_DEPARTMENT
from shared.envelope import seal
from shared.errors import DomainError, forbidden, invalid
from shared.messaging import ok
from shared.service import Context, Routes
from services.organizations import campaign_commands as cc
from services.organizations import lifecycle as lc
from services.organizations import lifecycle_commands as lcc
from services.organizations.campaigns import Classification
from services.organizations.domain import Member, Organization, Township
from services.organizations.projections.registry import RegistryProjection
from services.organizations.rectification import RectificationCase, case_id
from services.organizations.rulebook import RuleBook


async def registry_counts(ctx: Context, organization_id: str) -> tuple[int, int, dict[str, str | None]]:
    """(full members of the organization, members of it and everything under it, parent map)."""
    await ctx.service.caught_up(ctx.county, await ctx.service.store.last_seq(ctx.county), "organizations.registry")
    p = ctx.service.projection(RegistryProjection)

    def count(ctx: Context):
        m, o = p.members.c, p.organizations.c
        with ctx.service.engine.connect() as conn:
            parents = dict(conn.execute(select(o.organization_id, o.parent_id).where(o.county == ctx.county)).all())
            per_org = conn.execute(select(m.branch_id, m.membership_status, func.count()).where(
                m.county == ctx.county).group_by(m.branch_id, m.membership_status)).all()
        subtree = {organization_id}
        changed = True
        while changed:
            grown = {oid for oid, parent in parents.items() if parent in subtree} - subtree
            subtree |= grown
            changed = bool(grown)
        full = sum(n for b, status, n in per_org if b == organization_id and status == "full")
        total = sum(n for b, _, n in per_org if b in subtree)
        return full, total, parents
    return await asyncio.to_thread(count, ctx)


def register(routes: Routes, today) -> None:
    repo_of = lambda ctx: ctx.service.repo  # noqa: E731

    async def rules(ctx: Context):
        return (await repo_of(ctx).get(ctx.county, RuleBook, ctx.county)).state.in_force(today())

    async def org(ctx: Context, organization_id: str) -> Organization:
        return (await repo_of(ctx).get(ctx.county, Organization, organization_id)).state

    def split(ctx: Context, model, key: str = "organization_id"):
        data = dict(ctx.data)
        return str(data.pop(key, "")), model.model_validate(data)

    async def on_org(ctx: Context, organization_id: str, decide) -> dict:
        out = await repo_of(ctx).execute(ctx.county, Organization, organization_id, ctx.meta, decide)
        return ok({"organization_id": organization_id}, out.seq)

    @routes.command("rename_organization")
    async def on_rename(ctx: Context) -> dict:
        """更名 (with upper approval)."""
        ctx.require_county_department()
        oid, cmd = split(ctx, lcc.RenameOrganization)
        return await on_org(ctx, oid, lambda o: lc.rename(o, cmd, today=today()))

    @routes.command("upgrade_organization")
    async def on_upgrade(ctx: Context) -> dict:
        """升格 (党支部→党总支→基层党委), setting rules checked on its member count."""
        ctx.require_county_department()
        oid, cmd = split(ctx, lcc.UpgradeOrganization)
        _, total, _ = await registry_counts(ctx, oid)
        table = await rules(ctx)
        return await on_org(ctx, oid, lambda o: lc.upgrade(o, cmd, member_count=total, rules=table, today=today()))

    @routes.command("transfer_organization")
    async def on_transfer(ctx: Context) -> dict:
        """整建制转移 under another parent (and township)."""
        ctx.require_county_department()
        oid, cmd = split(ctx, lcc.TransferOrganization)
        _, _, parents = await registry_counts(ctx, oid)
        parent = await org(ctx, cmd.to_parent_id) if cmd.to_parent_id else None
        township = (await repo_of(ctx).get(ctx.county, Township, cmd.to_township_id)).state \
            if cmd.to_township_id else None
        return await on_org(ctx, oid, lambda o: lc.transfer(o, cmd, new_parent=parent, township=township,
                                                            parent_of=parents.get, today=today()))

    @routes.command("dissolve_organization")
    async def on_dissolve(ctx: Context) -> dict:
        """撤销 (restorable)."""
        ctx.require_county_department()
        oid, cmd = split(ctx, lcc.DissolveOrganization)
        return await on_org(ctx, oid, lambda o: lc.dissolve(o, cmd, today=today()))

    @routes.command("restore_organization")
    async def on_restore(ctx: Context) -> dict:
        """恢复 a dissolved organization."""
        ctx.require_county_department()
        oid, cmd = split(ctx, lcc.RestoreOrganization)
        return await on_org(ctx, oid, lambda o: lc.restore(o, cmd, today=today()))

    @routes.command("merge_organization")
    async def on_merge(ctx: Context) -> dict:
        """合并: this organization is absorbed; its members move with it, all in one atomic batch."""
        ctx.require_county_department()
        oid, cmd = split(ctx, lcc.MergeOrganization)
        repo = repo_of(ctx)
        absorbed = await repo.get(ctx.county, Organization, oid)
        into = await org(ctx, cmd.into_organization_id)
        events = lc.merge(absorbed.state, cmd, into=into if into.exists else None, today=today())
        from services.organizations.queries import member_ids_of
        member_ids = await member_ids_of(ctx, oid)
        if len(member_ids) > 999:
            raise invalid("too_many_members_to_merge", "organization_id",
                          "党员超过999人，请先分批转接 / more than 999 members: transfer them in parts first")
        items = [(repo.subject(ctx.county, Organization, oid),
                  seal(ctx.county, oid, events[0], ctx.meta, absorbed.last_hash), absorbed.version)]
        transfer = lcc_transfer(cmd)
        for mid in member_ids:
            m = await repo.get(ctx.county, Member, mid)
            for ev in m.state.transfer(transfer, to_branch=into, today=today()):
                items.append((repo.subject(ctx.county, Member, mid), seal(ctx.county, mid, ev, ctx.meta, m.last_hash),
                              m.version))
        appended = await repo.append_atomic(ctx.county, items)
        return ok({"organization_id": oid, "into_organization_id": cmd.into_organization_id,
                   "members_moved": len(member_ids)}, appended[-1].seq)

    @routes.command("elect_committee")
    async def on_elect(ctx: Context) -> dict:
        """换届选举: committee (or secretary only) and its term from the rules in force."""
        ctx.require_write()
        if ctx.actor.role == "branch_secretary":
            raise forbidden("支部书记不能登记换届结果 / branch secretaries do not record elections")
        oid, cmd = split(ctx, lcc.ElectCommittee)
        full, _, _ = await registry_counts(ctx, oid)
        table = await rules(ctx)
        out = await repo_of(ctx).execute(ctx.county, Organization, oid, ctx.meta, lambda o: lc.elect_committee(
            o, cmd, full_members=full, rules=table, today=today()))
        state = await org(ctx, oid)
        return ok({"organization_id": oid, "term_ends_on": state.term_ends_on.isoformat() if state.term_ends_on
                   else None, "secretary_only": state.secretary_only}, out.seq)

    @routes.command("postpone_election")
    async def on_postpone(ctx: Context) -> dict:
        """延期/提前换届 with approval (normally within a year)."""
        ctx.require_county_department()
        oid, cmd = split(ctx, lcc.PostponeElection)
        table = await rules(ctx)
        return await on_org(ctx, oid, lambda o: lc.postpone_election(o, cmd, rules=table, today=today()))

    @routes.command("classify_organization")
    async def on_classify(ctx: Context) -> dict:
        """分类定级: 先进/一般/后进 against 五个好 (or 双强六好 for enterprise organizations)."""
        ctx.require_county_department()
        oid, cmd = split(ctx, cc.ClassifyOrganization)
        organization = await org(ctx, oid)
        out = await repo_of(ctx).execute(ctx.county, Classification, oid, ctx.meta,
                                         lambda c: c.classify(cmd, organization=organization, today=today()))
        return ok({"organization_id": oid, "year": cmd.year}, out.seq)

    @routes.command("flag_organization_weak")
    async def on_flag(ctx: Context) -> dict:
        """列入软弱涣散 (county committee decision) with reasons from the rule table."""
        ctx.require_county_department()
        cmd = cc.FlagOrganizationWeak.model_validate(ctx.data)
        organization = await org(ctx, cmd.organization_id)
        from services.organizations.queries_campaigns import latest_case_id
        previous_id = await latest_case_id(ctx, cmd.organization_id, exclude_campaign=cmd.campaign)
        previous = (await repo_of(ctx).get(ctx.county, RectificationCase, previous_id)).state if previous_id else None
        table = await rules(ctx)
        cid = case_id(cmd.campaign, cmd.organization_id)
        out = await repo_of(ctx).execute(ctx.county, RectificationCase, cid, ctx.meta, lambda c: c.flag(
            cmd, organization=organization, rules=table, today=today(), previous=previous))
        case = (await repo_of(ctx).get(ctx.county, RectificationCase, cid)).state
        return ok({"case_id": cid, "relapse_of": case.relapse_of}, out.seq)

    def case_step(name: str, model, method: str, doc: str, who: set[str], needs_rules: bool = False) -> None:
        async def handler(ctx: Context) -> dict:
            ctx.require_write()
            cid, cmd = split(ctx, model, "case_id")
            case = (await repo_of(ctx).get(ctx.county, RectificationCase, cid)).state
            if ctx.actor.role not in who:
                raise forbidden("无权执行此整顿环节 / this step is not yours to record")
            if ctx.actor.role == "township_operator" and case.exists:
                township = (await org(ctx, case.organization_id)).township_id
                if township != ctx.actor.township:
                    raise forbidden("乡镇操作员只能处理本乡镇案例 / a township operator acts only in their township")
            table = await rules(ctx) if needs_rules else None
            kwargs = {"rules": table} if needs_rules else {}
            out = await repo_of(ctx).execute(ctx.county, RectificationCase, cid, ctx.meta,
                                             lambda c: getattr(c, method)(cmd, today=today(), **kwargs))
            return ok({"case_id": cid}, out.seq)
        handler.__doc__, handler.__name__ = doc, f"on_{name}"
        routes.command(name)(handler)

    county = COUNTY_DEPARTMENT
    both = county | {"township_operator"}
    case_step("plan_rectification", cc.PlanRectification, "plan_rectification", "一村一策 整顿方案.", both)
    case_step("replace_secretary", cc.ReplaceSecretary, "replace_secretary", "调整书记.", county)
    case_step("assign_first_secretary", cc.AssignFirstSecretary, "assign_first_secretary", "选派第一书记.", county)
    case_step("assign_liaison_leader", cc.AssignLiaisonLeader, "assign_liaison_leader", "县级领导包联.", county)
    case_step("report_rectification_progress", cc.ReportRectificationProgress, "report_progress", "整顿进展.", both)
    case_step("accept_rectification_by_township", cc.AcceptRectificationByTownship, "accept_by_township",
              "乡镇验收.", both)
    case_step("accept_rectification", cc.AcceptRectification, "accept", "县级验收销号 (BranchRectified).", county,
              needs_rules=True)
    case_step("extend_rectification", cc.ExtendRectification, "extend", "延期整顿.", county)


def lcc_transfer(cmd):
    """The MemberTransferred of a member moved by a merge, dated the merge's approval."""
    from services.organizations.commands import TransferMember

    return TransferMember(to_branch_id=cmd.into_organization_id, transferred_on=cmd.approved_on,
                          reason="党组织合并 / organizations merged")


__all__ = ["register", "DomainError"]
