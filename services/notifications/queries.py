"""Queries of the notifications service: the inbox (paged, unread count), the feed after a stream
position (what an SSE client missed), the subscriptions. Every read is narrowed to the caller's scope."""
from __future__ import annotations

import asyncio

import orjson
from sqlalchemy import and_, func, select
from sqlalchemy.sql import ColumnElement

from shared.catalog.notifications import Filters
from shared.errors import DomainError, FieldError, forbidden
from shared.messaging import ok
from shared.service import Context
from services.notifications.commands import (Feed, FeedQuery, Inbox, InboxQuery, NoParameters, Notification,
                                             SubscriptionList, SubscriptionView)
from services.notifications.projections.feed import FeedProjection
from services.notifications.urls import masked

FEED = FeedProjection.name


def _feed(ctx: Context) -> FeedProjection:
    return ctx.service.projection(FeedProjection)


def scope_clause(ctx: Context, table) -> ColumnElement[bool]:
    actor = ctx.actor
    if actor.role == "township_operator":
        return table.c.township_id == actor.township
    if actor.role == "branch_secretary":
        return table.c.organization_id == actor.branch
    return table.c.county == ctx.county


def _run(ctx: Context, fn):
    def work():
        with ctx.service.engine.connect() as conn:
            return fn(conn)
    return asyncio.to_thread(work)


def _unread_clause(ctx: Context, p: FeedProjection) -> ColumnElement[bool]:
    n, r, m = p.notifications, p.reads, p.read_marks
    mark = select(m.c.up_to_seq).where(m.c.county == ctx.county, m.c.user == ctx.actor.sub).scalar_subquery()
    read = select(r.c.notification_id).where(r.c.county == ctx.county, r.c.user == ctx.actor.sub)
    return and_(n.c.seq > func.coalesce(mark, 0), n.c.notification_id.not_in(read))


async def unread_count(ctx: Context) -> int:
    p = _feed(ctx)
    n = p.notifications
    q = select(func.count()).select_from(n).where(n.c.county == ctx.county, scope_clause(ctx, n),
                                                   _unread_clause(ctx, p))
    return await _run(ctx, lambda conn: conn.execute(q).scalar() or 0)


async def check_visible(ctx: Context, ids: list[str]) -> None:
    """404 naming the first notification the caller cannot see (or that does not exist)."""
    if not ids:
        return
    n = _feed(ctx).notifications
    q = select(n.c.notification_id).where(n.c.county == ctx.county, scope_clause(ctx, n), n.c.notification_id.in_(ids))
    seen = set(await _run(ctx, lambda conn: conn.execute(q).scalars().all()))
    missing = next((i for i in ids if i not in seen), None)
    if missing is not None:
        raise DomainError("not_found", f"通知 {missing} 不存在 / no notification {missing} in your scope", 404,
                          [FieldError("notification_ids", f"unknown: {missing}")])


async def latest_seq(ctx: Context) -> int:
    n = _feed(ctx).notifications
    q = select(func.max(n.c.seq)).where(n.c.county == ctx.county)
    return await _run(ctx, lambda conn: conn.execute(q).scalar() or 0)


def _notification(row, read: bool | None = None) -> Notification:
    data = dict(row._mapping)
    data["event_ids"] = orjson.loads(data["event_ids"])
    return Notification(**{k: v for k, v in data.items() if k in Notification.model_fields}, read=read)


async def on_inbox(ctx: Context, q: InboxQuery) -> dict:
    """收件箱：调用者范围内的通知，最新在前，含未读数。"""
    await ctx.service.caught_up(ctx.county, ctx.min_seq, FEED)
    p = _feed(ctx)
    n = p.notifications
    unread = _unread_clause(ctx, p)
    where = [n.c.county == ctx.county, scope_clause(ctx, n)]
    listed = [*where, unread] if q.unread_only else where

    def read(conn):
        rows = conn.execute(select(n, unread.label("unread")).where(*listed).order_by(n.c.seq.desc())
                            .limit(q.size).offset((q.page - 1) * q.size)).all()
        total = conn.execute(select(func.count()).select_from(n).where(*listed)).scalar() or 0
        unread_n = conn.execute(select(func.count()).select_from(n).where(*where, unread)).scalar() or 0
        return rows, total, unread_n

    rows, total, unread_n = await _run(ctx, read)
    items = [_notification(r, read=not r.unread) for r in rows]
    return ok(Inbox(items=items, total=total, unread=unread_n, page=q.page, size=q.size))


async def on_feed(ctx: Context, q: FeedQuery) -> dict:
    """通知流：某一流序号之后的通知（SSE 断线重连补发）。"""
    await ctx.service.caught_up(ctx.county, ctx.min_seq, FEED)
    n = _feed(ctx).notifications
    stmt = (select(n).where(n.c.county == ctx.county, scope_clause(ctx, n), n.c.seq > q.after_seq)
            .order_by(n.c.seq).limit(q.limit))
    rows = await _run(ctx, lambda conn: conn.execute(stmt).all())
    return ok(Feed(items=[_notification(r) for r in rows]))


async def on_subscriptions(ctx: Context, q: NoParameters) -> dict:
    """订阅列表（不含密钥）。"""
    await ctx.service.caught_up(ctx.county, ctx.min_seq, FEED)
    if ctx.actor.role == "auditor":
        raise forbidden("审计角色不查看订阅 / auditors do not see subscriptions")
    s = _feed(ctx).subscriptions
    where = [s.c.county == ctx.county, s.c.removed == 0]
    if ctx.actor.role == "township_operator":
        where.append(s.c.owner_township_id == ctx.actor.township)
    elif ctx.actor.role == "branch_secretary":
        where.append(s.c.owner_organization_id == ctx.actor.branch)
    rows = await _run(ctx, lambda conn: conn.execute(select(s).where(*where).order_by(s.c.subscription_id)).all())
    items = [SubscriptionView(subscription_id=r.subscription_id, name=r.name, channel=r.channel, url=masked(r.url),
                              keyword=r.keyword, filters=Filters.model_validate_json(r.filters),
                              enabled=bool(r.enabled), disabled_reason=r.disabled_reason) for r in rows]
    return ok(SubscriptionList(items=items))


HANDLERS = [
    ("qry", "inbox", on_inbox, Inbox),
    ("qry", "feed", on_feed, Feed),
    ("qry", "subscriptions", on_subscriptions, SubscriptionList),
]
