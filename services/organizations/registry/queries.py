"""Queries of the registry and its reads of the organizations.registry read-model (the only SQL of
the registry; other contexts read the registry through the functions at the end of this module)."""
from __future__ import annotations

import asyncio
from collections import Counter
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select

from shared.errors import not_found
from shared.messaging import ok
from shared.rows import row_dicts
from shared.service import Context
from services.organizations import scope
from services.organizations.contracts import TOKEN_PATTERN, NoParameters
from services.organizations.registry.projections.registry import RegistryProjection

REGISTRY = "organizations.registry"
MAX_OFFSET = 10_000_000


class ListOrganizations(BaseModel):
    model_config = ConfigDict(extra="forbid")
    township_id: str | None = Field(None, pattern=TOKEN_PATTERN, description="只列此乡镇 / only this township")
    organization_id: str | None = Field(None, pattern=TOKEN_PATTERN, description="只列此组织 / only this one")


class ListMembers(BaseModel):
    model_config = ConfigDict(extra="forbid")
    branch_id: str | None = Field(None, pattern=TOKEN_PATTERN, description="只列此支部 / only this branch")
    limit: int = Field(100, ge=1, le=500, description="每页条数 / page size")
    offset: int = Field(0, ge=0, le=MAX_OFFSET, description="跳过条数 / rows to skip")


class GetMember(BaseModel):
    model_config = ConfigDict(extra="forbid")
    member_id: str = Field(pattern=TOKEN_PATTERN, description="党员编号 / member id")


class TownshipEntry(BaseModel):
    township_id: str
    name: str | None = Field(description="乡镇名称 / e.g. 侨港镇")
    code: str | None = Field(None, description="乡镇区划代码 / division code")


class TownshipList(BaseModel):
    items: list[TownshipEntry] = Field(description="本县乡镇（按名称） / the county's townships by name")


class OrganizationEntry(BaseModel):
    organization_id: str
    name: str
    organization_type: str = Field(description="primary_committee / general_branch / branch / joint_branch / party_group")
    host_unit_type: str
    parent_id: str | None = None
    township_id: str | None = None
    approved_by: str | None = None
    approved_on: date | None = None
    status: str = Field(description="active / dissolved / merged")
    merged_into: str | None = None
    secretary: str | None = Field(None, description="现任书记 / the elected secretary")
    elected_on: date | None = None
    term_ends_on: date | None = None
    election_due_on: date | None = Field(None, description="换届期限（延期后） / election due (after a postponement)")
    secretary_only: bool | None = None
    seq: int = Field(description="stream sequence of the founding event")


class OrganizationList(BaseModel):
    items: list[OrganizationEntry] = Field(description="按成立顺序 / in order of founding")


class MemberEntry(BaseModel):
    member_id: str = Field(description="党员编号 / member id")
    name: str = Field(description="姓名 / name")
    gender: str | None = Field(None, description="性别 / gender")
    birth_date: date | None = Field(None, description="出生日期 / date of birth")
    membership_status: str | None = Field(None, description="full 正式党员 / probationary 预备党员")
    joined_on: date | None = Field(None, description="入党日期 / date of joining the Party")
    branch_id: str = Field(description="组织关系所在党支部 / the branch holding the affiliation")
    import_id: str | None = Field(None, description="导入编号（经导入登记时） / the import that registered them")
    standing: str = Field("active", description="党籍状态 / standing: active, deceased, left, expelled, suspended, "
                                                "cancelled (only active members are counted)")
    seq: int = Field(description="stream sequence of the registration")


class MemberList(BaseModel):
    total: int = Field(description="符合条件的党员总数 / members matching, all pages")
    items: list[MemberEntry] = Field(description="本页党员 / the members of this page")


# -- handlers ------------------------------------------------------------------------------------
async def on_list_townships(ctx: Context, q: NoParameters) -> dict:
    """The county's townships."""
    return ok({"items": await _read(ctx, _townships)})


async def on_list_organizations(ctx: Context, q: ListOrganizations) -> dict:
    """The county's organizations, optionally of one township."""
    return ok({"items": await _read(ctx, _organizations, q)})


async def on_list_members(ctx: Context, q: ListMembers) -> dict:
    """Members, optionally of one branch, paged."""
    return ok(await _read(ctx, _members, q))


async def on_get_member(ctx: Context, q: GetMember) -> dict:
    """One member's registry entry."""
    found = await _read(ctx, _member, q.member_id)
    if found is None:
        raise not_found("member_not_found", f"本县无此党员 / member {q.member_id} not found", "member_id")
    return ok(found)


# -- reads ---------------------------------------------------------------------------------------
def _p(ctx: Context) -> RegistryProjection:
    return ctx.service.projection(RegistryProjection)


async def _read(ctx: Context, fn, *args):
    await ctx.service.caught_up(ctx.county, ctx.min_seq)
    return await asyncio.to_thread(fn, ctx, *args)


async def _read_current(ctx: Context, fn, *args):
    """A read for a command: the registry as of the end of the log (what the command decides on)."""
    await ctx.service.caught_up(ctx.county, await ctx.service.store.last_seq(ctx.county), REGISTRY)
    return await asyncio.to_thread(fn, ctx, *args)


def _visible_organizations(ctx: Context) -> list:
    """Conditions on the organization rows the actor may read (README: Read rules): all of the county,
    a township operator's township, a branch secretary's own branch."""
    o, actor = _p(ctx).organizations.c, ctx.actor
    where = [o.county == ctx.county]
    if actor.role == "township_operator":
        where.append(o.township_id == actor.township)
    elif actor.role == "branch_secretary":
        where.append(o.organization_id == actor.branch)
    return where


def _townships(ctx: Context, whole_county: bool = False) -> list[dict]:
    t, o = _p(ctx).townships, _p(ctx).organizations.c
    where = [t.c.county == ctx.county]
    if not (whole_county or ctx.actor.sees_whole_county):  # their own township (a branch secretary: their branch's)
        where.append(t.c.township_id.in_(select(o.township_id).where(*_visible_organizations(ctx))))
    with ctx.service.engine.connect() as conn:
        return row_dicts(conn.execute(select(t).where(*where).order_by(t.c.name)), iso=True)


def _organizations(ctx: Context, q: ListOrganizations) -> list[dict]:
    o = _p(ctx).organizations
    stmt = select(o).where(*_visible_organizations(ctx))
    if q.township_id:
        stmt = stmt.where(o.c.township_id == q.township_id)
    if q.organization_id:
        stmt = stmt.where(o.c.organization_id == q.organization_id)
    with ctx.service.engine.connect() as conn:
        return row_dicts(conn.execute(stmt.order_by(o.c.seq)), iso=True)


def _with_standing(ctx: Context):
    """Members with their standing (党籍; "active" unless a 党籍异动 recorded another)."""
    m, s = _p(ctx).members, _p(ctx).standings
    return select(m, func.coalesce(s.c.standing, "active").label("standing"),
                  s.c.changed_on.label("standing_since")).select_from(
        m.outerjoin(s, (s.c.county == m.c.county) & (s.c.member_id == m.c.member_id)))


def _members(ctx: Context, q: ListMembers) -> dict:
    m, o = _p(ctx).members, _p(ctx).organizations.c
    where = [m.c.county == ctx.county] + ([m.c.branch_id == q.branch_id] if q.branch_id else [])
    if not ctx.actor.sees_whole_county:
        where.append(m.c.branch_id.in_(select(o.organization_id).where(*_visible_organizations(ctx))))
    with ctx.service.engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(m).where(*where)).scalar()
        items = row_dicts(conn.execute(_with_standing(ctx).where(*where).order_by(m.c.seq).limit(q.limit)
                                       .offset(q.offset)), iso=True)
    return {"total": total, "items": items}


def _member(ctx: Context, member_id: str) -> dict | None:
    m, o, s = _p(ctx).members, _p(ctx).organizations.c, _p(ctx).standings.c
    with ctx.service.engine.connect() as conn:
        row = conn.execute(select(m, o.township_id, func.coalesce(s.standing, "active").label("standing"))
                           .select_from(m.outerjoin(_p(ctx).organizations, (o.county == m.c.county)
                                                    & (o.organization_id == m.c.branch_id))
                                        .outerjoin(_p(ctx).standings, (s.county == m.c.county)
                                                   & (s.member_id == m.c.member_id)))
                           .where(m.c.county == ctx.county, m.c.member_id == member_id)).first()
    if row is None:
        return None
    scope.check_sees(ctx.actor, row.township_id, row.branch_id, f"党员 {member_id} / member {member_id}")
    found = row_dicts([row], iso=True)[0]
    del found["township_id"]  # the branch's, for the scope check only
    return found


async def branch_lookup(ctx: Context) -> dict[str, str]:
    """Organization ids and exact names → ids, for imports that name the branch (所在支部)."""
    def load(ctx: Context) -> dict[str, str]:
        o = _p(ctx).organizations.c
        with ctx.service.engine.connect() as conn:
            rows = conn.execute(select(o.organization_id, o.name).where(o.county == ctx.county)).all()
        names: dict[str, str] = {}
        for oid, name in rows:
            names[oid] = oid
            names.setdefault(name, oid)
        return names
    return await _read_current(ctx, load)


async def township_lookup(ctx: Context) -> dict[str, str]:
    """Township ids and names → ids, for imports that name the township (所属乡镇)."""
    names: dict[str, str] = {}
    for r in await _read_current(ctx, _townships, True):
        names[r["township_id"]] = r["township_id"]
        names.setdefault(r["name"], r["township_id"])
    return names


async def member_lookup(ctx: Context) -> dict[tuple[str, str], str]:
    """(branch, member id or name) → member id, for imports that name members in their branch; a name two
    members of a branch share is left out (the sheet names them by id)."""
    def load(ctx: Context) -> dict[tuple[str, str], str]:
        m = _p(ctx).members.c
        with ctx.service.engine.connect() as conn:
            rows = conn.execute(select(m.member_id, m.name, m.branch_id).where(m.county == ctx.county)).all()
        names = Counter((r.branch_id, r.name) for r in rows)
        return {**{(r.branch_id, r.name): r.member_id for r in rows if names[(r.branch_id, r.name)] == 1},
                **{(r.branch_id, r.member_id): r.member_id for r in rows}}
    return await _read_current(ctx, load)


async def member_ids_of(ctx: Context, organization_id: str) -> list[str]:
    """Members whose relationship the organization holds, in order of registration."""
    def load(ctx: Context) -> list[str]:
        m = _p(ctx).members.c
        with ctx.service.engine.connect() as conn:
            return list(conn.execute(select(m.member_id).where(m.county == ctx.county, m.branch_id == organization_id)
                                     .order_by(m.seq)).scalars())
    return await _read_current(ctx, load)


async def organization_counts(ctx: Context, organization_id: str) -> tuple[int, int, dict[str, str | None]]:
    """(full members of the organization, members of it and everything under it, the county's parent
    map organization → parent). Only members in good standing count (not deceased, left, expelled,
    suspended or with their probation cancelled)."""
    def count(ctx: Context):
        m, o, s = _p(ctx).members.c, _p(ctx).organizations.c, _p(ctx).standings.c
        away = select(s.member_id).where(s.county == ctx.county, s.standing != "active")
        with ctx.service.engine.connect() as conn:
            parents = dict(conn.execute(select(o.organization_id, o.parent_id).where(o.county == ctx.county)).all())
            per_org = conn.execute(select(m.branch_id, m.membership_status, func.count()).where(
                m.county == ctx.county, m.member_id.not_in(away)).group_by(m.branch_id, m.membership_status)).all()
        subtree, grown = {organization_id}, {organization_id}
        while grown:
            grown = {oid for oid, parent in parents.items() if parent in subtree} - subtree
            subtree |= grown
        full = sum(n for b, status, n in per_org if b == organization_id and status == "full")
        total = sum(n for b, _, n in per_org if b in subtree)
        return full, total, parents
    return await _read_current(ctx, count)


async def members_by_id(ctx: Context, member_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Name, branch, full/probationary flag and standing of the given members (those that exist)."""
    def load(ctx: Context) -> dict[str, dict[str, Any]]:
        m, ids, rows = _p(ctx).members.c, sorted(set(member_ids)), []
        with ctx.service.engine.connect() as conn:
            for i in range(0, len(ids), 500):  # bounded IN lists
                rows += conn.execute(_with_standing(ctx).where(m.county == ctx.county,
                                                               m.member_id.in_(ids[i:i + 500]))).all()
        return {r.member_id: {"name": r.name, "branch_id": r.branch_id, "membership_status": r.membership_status,
                              "standing": r.standing, "standing_since": r.standing_since} for r in rows}
    return await _read(ctx, load) if member_ids else {}


async def organizations_by_id(ctx: Context) -> dict[str, dict[str, Any]]:
    """The county's organizations (name, type, township, status, approval date) by id, for other contexts'
    figures and scope checks (what a query has waited for: the caller's own writes)."""
    def load(ctx: Context) -> dict[str, dict[str, Any]]:
        o = _p(ctx).organizations.c
        with ctx.service.engine.connect() as conn:
            rows = conn.execute(select(o.organization_id, o.name, o.organization_type, o.township_id, o.status,
                                       o.approved_on).where(o.county == ctx.county).order_by(o.seq)).all()
        return {r.organization_id: dict(r._mapping) for r in rows}
    return await _read(ctx, load)
