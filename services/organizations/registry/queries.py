"""Query handlers of the organizations service (registry read-model)."""
from __future__ import annotations

import asyncio
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select

from shared.errors import not_found
from shared.messaging import ok
from shared.service import Context, Routes
from services.organizations.projections.registry import RegistryProjection


class ListMembers(BaseModel):
    model_config = ConfigDict(extra="forbid")
    branch_id: str | None = None
    limit: int = Field(100, ge=1, le=500)
    offset: int = Field(0, ge=0)


class ListOrganizations(BaseModel):
    model_config = ConfigDict(extra="forbid")
    township_id: str | None = None


def _p(ctx: Context) -> RegistryProjection:
    return ctx.service.projection(RegistryProjection)


def _rows(result) -> list[dict[str, Any]]:
    return [{k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in r._mapping.items() if k != "county"}
            for r in result]


async def _read(ctx: Context, fn, *args):
    await ctx.service.caught_up(ctx.county, ctx.min_seq)
    return await asyncio.to_thread(fn, ctx, *args)


async def branch_lookup(ctx: Context) -> dict[str, str]:
    """Branch ids and exact names → ids, for imports that name the branch (所在支部)."""
    await ctx.service.caught_up(ctx.county, await ctx.service.store.last_seq(ctx.county))

    def load(ctx: Context) -> dict[str, str]:
        o = _p(ctx).organizations.c
        with ctx.service.engine.connect() as conn:
            rows = conn.execute(select(o.organization_id, o.name).where(o.county == ctx.county)).all()
        names: dict[str, str] = {}
        for oid, name in rows:
            names[oid] = oid
            names.setdefault(name, oid)
        return names

    return await asyncio.to_thread(load, ctx)


async def township_lookup(ctx: Context) -> dict[str, str]:
    """Township ids and names → ids, for imports that name the township (所属乡镇)."""
    await ctx.service.caught_up(ctx.county, await ctx.service.store.last_seq(ctx.county), "organizations.registry")
    rows = await asyncio.to_thread(_townships, ctx)
    names: dict[str, str] = {}
    for r in rows:
        names[r["township_id"]] = r["township_id"]
        names.setdefault(r["name"], r["township_id"])
    return names


def _townships(ctx: Context) -> list[dict]:
    t = _p(ctx).townships
    with ctx.service.engine.connect() as conn:
        return _rows(conn.execute(select(t).where(t.c.county == ctx.county).order_by(t.c.name)))


def _organizations(ctx: Context, q: ListOrganizations) -> list[dict]:
    o = _p(ctx).organizations
    stmt = select(o).where(o.c.county == ctx.county)
    if q.township_id:
        stmt = stmt.where(o.c.township_id == q.township_id)
    with ctx.service.engine.connect() as conn:
        return _rows(conn.execute(stmt.order_by(o.c.seq)))


def _members(ctx: Context, q: ListMembers) -> dict:
    m = _p(ctx).members
    where = [m.c.county == ctx.county] + ([m.c.branch_id == q.branch_id] if q.branch_id else [])
    with ctx.service.engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(m).where(*where)).scalar()
        items = _rows(conn.execute(select(m).where(*where).order_by(m.c.seq).limit(q.limit).offset(q.offset)))
    return {"total": total, "items": items}


def _member(ctx: Context, member_id: str) -> dict | None:
    m = _p(ctx).members
    with ctx.service.engine.connect() as conn:
        rows = _rows(conn.execute(select(m).where(m.c.county == ctx.county, m.c.member_id == member_id)))
    return rows[0] if rows else None


def register(routes: Routes) -> None:
    @routes.query("list_townships")
    async def on_list_townships(ctx: Context) -> dict:
        """The county's townships."""
        return ok({"items": await _read(ctx, _townships)})

    @routes.query("list_organizations")
    async def on_list_organizations(ctx: Context) -> dict:
        """The county's organizations, optionally of one township."""
        return ok({"items": await _read(ctx, _organizations, ListOrganizations.model_validate(ctx.data))})

    @routes.query("list_members")
    async def on_list_members(ctx: Context) -> dict:
        """Members, optionally of one branch, paged."""
        return ok(await _read(ctx, _members, ListMembers.model_validate(ctx.data)))

    @routes.query("get_member")
    async def on_get_member(ctx: Context) -> dict:
        """One member's registry entry."""
        member_id = str(ctx.data.get("member_id", ""))
        found = await _read(ctx, _member, member_id)
        if found is None:
            raise not_found("member_not_found", f"本县无此党员 / member {member_id} not found", "member_id")
        return ok(found)


async def member_ids_of(ctx: Context, organization_id: str) -> list[str]:
    """Members whose relationship the organization holds, per the registry at the end of the log."""
    await ctx.service.caught_up(ctx.county, await ctx.service.store.last_seq(ctx.county), "organizations.registry")

    def load(ctx: Context) -> list[str]:
        m = _p(ctx).members.c
        with ctx.service.engine.connect() as conn:
            return list(conn.execute(select(m.member_id).where(m.county == ctx.county, m.branch_id == organization_id)
                                     .order_by(m.seq)).scalars())
    return await asyncio.to_thread(load, ctx)
