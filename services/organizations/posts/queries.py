"""Queries of 无职党员设岗定责: each branch's posts with their holders, a year's commitments with their
reviews (and the evidence reference a duty-star score cites), and the ledger as Excel."""
from __future__ import annotations

import asyncio
from datetime import date

import orjson
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from shared.messaging import ok
from shared.service import Context
from services.organizations.clock import today
from services.organizations.contracts import TOKEN_PATTERN, workbook_reply
from services.organizations.posts.post_sheet import ledger_xlsx
from services.organizations.posts.projections.posts import PostsProjection
from services.organizations.registry.domain import Organization
from services.organizations.registry.queries import branch_lookup


class ListPosts(BaseModel):
    model_config = ConfigDict(extra="forbid")
    branch_id: str | None = Field(None, pattern=TOKEN_PATTERN, description="只列此支部 / only this branch")


class ListCommitments(BaseModel):
    model_config = ConfigDict(extra="forbid")
    year: int = Field(ge=2000, le=2100, description="承诺年度 / year")
    branch_id: str | None = Field(None, pattern=TOKEN_PATTERN, description="只列此支部 / only this branch")
    member_id: str | None = Field(None, pattern=TOKEN_PATTERN, description="只列此党员 / only this member")


class Holder(BaseModel):
    member_id: str = Field(description="党员编号 / member")
    member_name: str = Field(description="姓名 / name")
    assigned_on: date = Field(description="上岗日期 / on the post since")


class PostEntry(BaseModel):
    post_id: str = Field(description="岗位编号 / post")
    branch_id: str = Field(description="党支部 / branch")
    name: str = Field(description="岗位名称 / name")
    category: str = Field(description="类别 / category")
    duties: str = Field(description="岗位职责 / duties")
    defined_on: date = Field(description="设岗日期 / defined on")
    holders: list[Holder] = Field(description="在岗党员 / current holders")


class PostList(BaseModel):
    total: int = Field(description="岗位数 / posts")
    members_on_posts: int = Field(description="在岗党员数 / members holding a post")
    items: list[PostEntry] = Field(description="按支部、名称 / by branch and name")


class CommitmentEntry(BaseModel):
    commitment_id: str = Field(description="承诺编号 / <year>-<member id>")
    member_id: str = Field(description="党员 / member")
    member_name: str = Field(description="姓名 / name")
    branch_id: str = Field(description="党支部 / branch")
    post_id: str = Field(description="岗位 / post")
    year: int = Field(description="年度 / year")
    items: list[str] = Field(description="承诺事项 / what was promised")
    made_on: date = Field(description="承诺日期 / made on")
    published_at: str = Field(description="公开方式 / where it was made public")
    reviewed_on: date | None = Field(description="评议日期 / reviewed on")
    reviewed_by: str | None = Field(description="评议主体 / reviewed by")
    grade: str | None = Field(description="excellent / good / fair / poor")
    fulfilled: bool | None = Field(description="践诺 / fulfilled")
    note: str | None = Field(description="说明 / note")
    evidence_ref: str | None = Field(description="职责星积分可引用的评议凭证 / the evidence a duty-star score cites")


class CommitmentList(BaseModel):
    year: int = Field(description="年度 / year")
    made: int = Field(description="已承诺 / commitments made")
    reviewed: int = Field(description="已评议 / reviewed")
    fulfilled: int = Field(description="践诺 / fulfilled")
    items: list[CommitmentEntry] = Field(description="按支部、姓名 / by branch and name")


async def visible(ctx: Context, items: list[dict]) -> list[dict]:
    """README: Read rules — a township operator reads the posts and commitments of their township's
    branches, a branch secretary their own branch's."""
    if ctx.actor.sees_whole_county:
        return items
    branches = await ctx.service.repo.load_many(ctx.county, [(Organization, b) for b in
                                                             sorted({i["branch_id"] for i in items})])
    seen = {b.state.id for b in branches if ctx.actor.sees(b.state.township_id, b.state.id)}
    return [i for i in items if i["branch_id"] in seen]


def _p(ctx: Context) -> PostsProjection:
    return ctx.service.projection(PostsProjection)


def post_entries(ctx: Context, branch_id: str | None) -> list[dict]:
    """Posts with their holders (run in a worker thread)."""
    p = _p(ctx)
    posts, holders = select(p.posts).where(p.posts.c.county == ctx.county), select(p.holders).where(
        p.holders.c.county == ctx.county)
    if branch_id:
        posts = posts.where(p.posts.c.branch_id == branch_id)
    with ctx.service.engine.connect() as conn:
        items = [dict(r._mapping) for r in conn.execute(posts)]
        by_post: dict[str, list[dict]] = {}
        for h in conn.execute(holders):
            by_post.setdefault(h.post_id, []).append({"member_id": h.member_id, "member_name": h.member_name,
                                                      "assigned_on": h.assigned_on})
    for item in items:
        item["holders"] = sorted(by_post.get(item["post_id"], []), key=lambda h: h["member_name"])
    return sorted(items, key=lambda i: (i["branch_id"], i["name"]))


def commitment_entries(ctx: Context, q: ListCommitments) -> list[dict]:
    c = _p(ctx).commitments.c
    stmt = select(_p(ctx).commitments).where(c.county == ctx.county, c.year == q.year)
    if q.branch_id:
        stmt = stmt.where(c.branch_id == q.branch_id)
    if q.member_id:
        stmt = stmt.where(c.member_id == q.member_id)
    with ctx.service.engine.connect() as conn:
        items = [{**r._mapping, "items": orjson.loads(r.items)} for r in conn.execute(stmt)]
    return sorted(items, key=lambda i: (i["branch_id"], i["member_name"]))


async def on_list_posts(ctx: Context, q: ListPosts) -> dict:
    """设岗定责: the posts of the county (or of one branch) and who holds them."""
    await ctx.service.caught_up(ctx.county, ctx.min_seq)
    items = await visible(ctx, await asyncio.to_thread(post_entries, ctx, q.branch_id))
    holders = {h["member_id"] for i in items for h in i["holders"]}
    return ok({"total": len(items), "members_on_posts": len(holders), "items": items})


async def on_list_commitments(ctx: Context, q: ListCommitments) -> dict:
    """公开承诺 and 践诺评议 of a year, with the evidence reference of each review."""
    await ctx.service.caught_up(ctx.county, ctx.min_seq)
    items = await visible(ctx, await asyncio.to_thread(commitment_entries, ctx, q))
    return ok({"year": q.year, "made": len(items), "reviewed": sum(i["reviewed_on"] is not None for i in items),
               "fulfilled": sum(bool(i["fulfilled"]) for i in items), "items": items})


async def on_posts_export(ctx: Context, q: ListCommitments) -> dict:
    """设岗定责台账 as Excel: posts and holders (its first sheet imports again), the year's commitments."""
    await ctx.service.caught_up(ctx.county, ctx.min_seq)
    posts = await visible(ctx, await asyncio.to_thread(post_entries, ctx, q.branch_id))
    commitments = await visible(ctx, await asyncio.to_thread(commitment_entries, ctx, q))
    names = {oid: name for name, oid in (await branch_lookup(ctx)).items() if name != oid}
    content = await asyncio.to_thread(ledger_xlsx, posts, commitments, names)
    return workbook_reply(f"设岗定责台账_{ctx.county}_{q.year}_{today().isoformat()}.xlsx", content)
