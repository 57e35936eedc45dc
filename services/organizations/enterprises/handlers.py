"""Commands of the 两新组织 part of the organizations service: register units, headcounts, closing,
founding Party organizations (EnterpriseBranchFounded), instructors, 工青妇, rules, imports."""
from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
from datetime import date

from sqlalchemy import select

from shared.catalog.organizations import OrganizationEstablished
from shared.catalog.rules import RuleTable
from shared.envelope import seal
from shared.eventstore import ConcurrencyConflict
from shared.errors import DomainError, FieldError, forbidden, invalid
from shared.ids import new_id, stable_id
from shared.messaging import ok
from shared.service import Context, Routes
from services.organizations.domain import Organization, Township
from services.organizations.enterprise_commands import (AssignInstructor, CloseEnterprise, FoundEnterpriseBranch,
                                                        RecordMassOrganization, RegisterEnterprise, ReopenEnterprise,
                                                        UpdateHeadcount, WithdrawInstructor)
from services.organizations.enterprise_import import parse_enterprise_file
from services.organizations.enterprises import Enterprise, found_branch
from services.organizations.projections.coverage import CoverageProjection
from services.organizations.rulebook import RuleBook
from services.organizations.uscc import validate_uscc



def register(routes: Routes, today) -> None:
    async def rules(ctx: Context, on: date | None = None) -> RuleTable:
        return (await ctx.service.repo.get(ctx.county, RuleBook, ctx.county)).state.in_force(on or today())

    async def check_township_scope(ctx: Context, township_id: str | None) -> None:
        if ctx.actor.role == "township_operator" and township_id != ctx.actor.township:
            raise forbidden("乡镇操作员只能管理本乡镇的两新组织 / a township operator acts only in their township")
        if ctx.actor.role == "branch_secretary":
            raise forbidden("支部书记不能管理两新组织台账 / branch secretaries do not manage the unit registry")

    async def uscc_holder(ctx: Context, uscc: str) -> str | None:
        """Which unit of the county holds this code, per the read-model at the end of the log."""
        await ctx.service.caught_up(ctx.county, await ctx.service.store.last_seq(ctx.county), "organizations.coverage")
        p = ctx.service.projection(CoverageProjection)

        def look(ctx: Context) -> str | None:
            with ctx.service.engine.connect() as conn:
                return conn.execute(select(p.units.c.enterprise_id).where(
                    p.units.c.county == ctx.county, p.units.c.uscc == uscc)).scalar()
        return await asyncio.to_thread(look, ctx)

    async def unit(ctx: Context, enterprise_id: str) -> Enterprise:
        u = (await ctx.service.repo.get(ctx.county, Enterprise, enterprise_id)).state
        if u.exists:
            await check_township_scope(ctx, u.township_id)
        return u

    @routes.command("register_enterprise")
    async def on_register_enterprise(ctx: Context) -> dict:
        """登记两新组织 with its unified social credit code (GB 32100, check character verified)."""
        ctx.require_write()
        cmd = RegisterEnterprise.model_validate(ctx.data)
        await check_township_scope(ctx, cmd.township_id)
        uscc = validate_uscc(cmd.uscc)
        enterprise_id = cmd.enterprise_id or stable_id("enterprise", ctx.county, uscc)
        holder = await uscc_holder(ctx, uscc)
        township = (await ctx.service.repo.get(ctx.county, Township, cmd.township_id)).state
        day = today()
        out = await ctx.service.repo.execute(ctx.county, Enterprise, enterprise_id, ctx.meta, lambda e: e.register(
            cmd, uscc_taken=holder not in (None, enterprise_id), township_exists=township.exists, today=day))
        return ok({"enterprise_id": enterprise_id, "uscc": uscc}, out.seq)

    def simple(name: str, model, method: str, doc: str) -> None:
        async def handler(ctx: Context) -> dict:
            ctx.require_write()
            data = dict(ctx.data)
            enterprise_id = str(data.pop("enterprise_id", ""))
            cmd = model.model_validate(data)
            await unit(ctx, enterprise_id)
            day = today()
            out = await ctx.service.repo.execute(ctx.county, Enterprise, enterprise_id, ctx.meta,
                                                 lambda e: getattr(e, method)(cmd, today=day))
            return ok({"enterprise_id": enterprise_id}, out.seq)
        handler.__doc__ = doc
        handler.__name__ = f"on_{name}"
        routes.command(name)(handler)

    simple("update_headcount", UpdateHeadcount, "update_headcount", "更新从业人员与党员人数.")
    simple("close_enterprise", CloseEnterprise, "close", "停产/注销.")
    simple("reopen_enterprise", ReopenEnterprise, "reopen", "恢复经营.")
    simple("assign_instructor", AssignInstructor, "assign_instructor", "选派党建指导员/联络员.")
    simple("withdraw_instructor", WithdrawInstructor, "withdraw_instructor", "撤回党建指导员/联络员.")
    simple("record_mass_organization", RecordMassOrganization, "record_mass_organization", "建立工会/共青团/妇联.")

    @routes.command("found_enterprise_branch")
    async def on_found_enterprise_branch(ctx: Context) -> dict:
        """组建党组织 for one unit (单独组建) or several (联合/行业/区域/楼宇): the new organization and
        every covered unit's EnterpriseBranchFounded are appended in one atomic batch."""
        ctx.require_write()
        cmd = FoundEnterpriseBranch.model_validate(ctx.data)
        repo = ctx.service.repo
        organization_id = cmd.organization_id or new_id()
        for _ in range(repo.retries):
            loaded = [await repo.get(ctx.county, Enterprise, eid) for eid in cmd.enterprise_ids]
            for lo in loaded:
                if lo.state.exists:
                    await check_township_scope(ctx, lo.state.township_id)
            org = await repo.get(ctx.county, Organization, organization_id)
            if org.state.exists:
                raise DomainError("organization_exists", f"党组织 {organization_id} 已存在 / organization exists", 409)
            pairs, warnings = found_branch(cmd, [lo.state for lo in loaded], await rules(ctx, cmd.founded_on),
                                           organization_id, today())
            first = loaded[0].state
            established = OrganizationEstablished(
                organization_id=organization_id, name=cmd.organization_name,
                organization_type="branch" if cmd.founding_mode == "standalone" else "joint_branch",
                host_unit_type=first.unit_type, township_id=first.township_id,
                approved_by=cmd.approved_by, approved_on=cmd.approved_on)
            items = [(repo.subject(ctx.county, Organization, organization_id),
                      seal(ctx.county, organization_id, established, ctx.meta, None), 0)]
            by_id = {lo.state.id: lo for lo in loaded}
            for enterprise_id, event in pairs:
                lo = by_id[enterprise_id]
                items.append((repo.subject(ctx.county, Enterprise, enterprise_id),
                              seal(ctx.county, enterprise_id, event, ctx.meta, lo.last_hash), lo.version))
            try:
                appended = await repo.append_atomic(ctx.county, items)
            except ConcurrencyConflict:
                continue  # a unit changed meanwhile: decide again on fresh state
            return ok({"organization_id": organization_id, "enterprise_ids": cmd.enterprise_ids,
                       "warnings": warnings}, appended[-1].seq)
        raise DomainError("concurrent_modification", "单位信息正在被修改，请重试 / units changed concurrently; retry", 409)

    @routes.command("adopt_rules")
    async def on_adopt_rules(ctx: Context) -> dict:
        """采用规则表: thresholds, term lengths, weak-reason list and targets, effective from a date."""
        ctx.require_county_department("只有县委组织部可以设定规则 / only the county department sets rules")
        table = RuleTable.model_validate(ctx.data)
        out = await ctx.service.repo.execute(ctx.county, RuleBook, ctx.county, ctx.meta, lambda b: b.adopt(table))
        return ok({"effective_from": table.effective_from.isoformat()}, out.seq)

    @routes.command("import_enterprises")
    async def on_import_enterprises(ctx: Context) -> dict:
        """批量导入两新组织 (CSV/Excel): every row checked first; any bad row refuses the whole file."""
        ctx.require_write()
        if ctx.actor.role not in {"county_admin", "platform_admin", "township_operator"}:
            raise forbidden("无权导入两新组织 / not allowed to import units")
        try:
            content = base64.b64decode(ctx.data.get("content_b64") or "", validate=True)
        except (binascii.Error, ValueError):
            raise invalid("invalid_file", "file", "文件内容无法解码 / file content is not valid base64") from None
        from services.organizations.queries import township_lookup
        plan = parse_enterprise_file(str(ctx.data.get("filename") or "units.csv"), content,
                                     await township_lookup(ctx))
        errors = [FieldError(f"row {e.row}: {e.field}", e.message) for e in plan.errors]
        if not plan.rows and not errors:
            raise invalid("empty_file", "file", "文件中没有单位数据 / the file has no unit rows")
        repo, day = ctx.service.repo, today()
        pending, already = [], 0
        for number, cmd in zip(plan.row_numbers, plan.rows):
            try:
                await check_township_scope(ctx, cmd.township_id)
                uscc = validate_uscc(cmd.uscc)
                enterprise_id = stable_id("enterprise", ctx.county, uscc)
                loaded = await repo.get(ctx.county, Enterprise, enterprise_id)
                if loaded.state.exists and loaded.state.name == cmd.name:
                    already += 1
                    continue
                holder = await uscc_holder(ctx, uscc)
                township = (await repo.get(ctx.county, Township, cmd.township_id)).state
                events = loaded.state.register(cmd, uscc_taken=holder not in (None, enterprise_id),
                                               township_exists=township.exists, today=day)
            except DomainError as exc:
                errors += [FieldError(f"row {number}: {e.field}", e.message) for e in exc.errors] or \
                    [FieldError(f"row {number}", exc.detail)]
                continue
            pending.append((repo.subject(ctx.county, Enterprise, enterprise_id),
                            seal(ctx.county, enterprise_id, events[0], ctx.meta, loaded.last_hash), loaded.version))
        if errors:
            raise DomainError("import_rejected", f"导入未执行：{len(errors)} 处错误 / import refused: {len(errors)} "
                              "problem(s), nothing was imported", 422, errors)
        seq = await repo.append_chunked(ctx.county, pending)
        return ok({"imported": len(pending), "already_imported": already,
                   "import_id": stable_id("import", ctx.county, hashlib.sha256(content).hexdigest())}, seq)
