"""The delivery log of a subscription (every attempt: status, latency, truncated response) and the
replay command that sends failed deliveries — or everything from a stream position — again."""
from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from shared.messaging import ok
from shared.service import Context
from services.notifications import deliveries as d
from services.notifications.commands import ID
from services.notifications.domain import Subscription
from services.notifications.projections.feed import FeedProjection

Status = Literal["pending", "delivered", "failed", "abandoned"]


class ReplayDeliveries(BaseModel):
    """重新投递：失败的通知，或自某一流序号起的全部通知。"""

    model_config = ConfigDict(extra="forbid")
    subscription_id: str = Field(pattern=ID, description="the subscription")
    only_failed: bool = Field(True, description="true: failed and abandoned deliveries; false: every matching "
                                                "notification from from_seq on, delivered ones too")
    from_seq: int | None = Field(None, ge=0, description="from this stream position on")


class Replayed(BaseModel):
    queued: int = Field(description="deliveries queued again")


class DeliveryLogQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    subscription_id: str = Field(pattern=ID, description="the subscription")
    status: Status | None = Field(None, description="only deliveries in this state")
    page: int = Field(1, ge=1, le=100_000, description="1-based page")
    size: int = Field(20, ge=1, le=100, description="items per page")


class Attempt(BaseModel):
    attempt: int = Field(description="1-based")
    at: datetime = Field(description="when")
    status_code: int | None = Field(None, description="HTTP status (none: no answer)")
    latency_ms: int | None = Field(None, description="time to the answer")
    response: str | None = Field(None, description="the answer's body, truncated to 500 characters")
    error: str | None = Field(None, description="why it did not count as delivered")


class Delivery(BaseModel):
    notification_id: str = Field(description="the notification (the webhook-id)")
    seq: int = Field(description="its stream position")
    status: Status = Field(description="pending / delivered / failed (after the last retry) / abandoned (disabled)")
    attempts: int = Field(description="attempts so far")
    next_at: datetime | None = Field(None, description="next try (pending)")
    delivered_at: datetime | None = Field(None, description="when it was delivered")
    log: list[Attempt] = Field(description="the last attempts, newest first")


class DeliveryLog(BaseModel):
    items: list[Delivery] = Field(description="newest notification first")


async def _subscription(ctx: Context, sid: str):
    state = (await ctx.service.repo.get(ctx.county, Subscription, sid)).state
    state.check_owned_by(ctx.actor.role, ctx.actor.township, ctx.actor.branch)
    state.check_exists()


async def on_replay_deliveries(ctx: Context, cmd: ReplayDeliveries) -> dict:
    """重新投递（失败的，或自某流序号起全部）。"""
    ctx.require_write()
    await _subscription(ctx, cmd.subscription_id)
    feed = ctx.service.projection(FeedProjection)

    def work() -> int:
        with ctx.service.engine.begin() as conn:
            s = feed.subscriptions
            sub = conn.execute(select(s).where(s.c.county == ctx.county, s.c.subscription_id == cmd.subscription_id)).first()
            return d.replay(conn, ctx.county, sub, feed.notifications, cmd.from_seq, cmd.only_failed) if sub else 0

    await ctx.service.caught_up(ctx.county, ctx.min_seq, FeedProjection.name)
    queued = await asyncio.to_thread(work)
    ctx.service.deliverer.poke()
    return ok(Replayed(queued=queued))


async def on_delivery_log(ctx: Context, q: DeliveryLogQuery) -> dict:
    """投递记录：每次尝试的状态码、耗时和（截断的）响应。"""
    await _subscription(ctx, q.subscription_id)

    def work():
        with ctx.service.engine.connect() as conn:
            return d.log_of(conn, ctx.county, q.subscription_id, q.status, q.size, (q.page - 1) * q.size)

    rows = await asyncio.to_thread(work)
    items = [Delivery(notification_id=r.notification_id, seq=r.seq, status=r.status, attempts=r.attempts,
                      next_at=r.next_at if r.status == "pending" else None, delivered_at=r.delivered_at,
                      log=[Attempt(attempt=t.attempt, at=t.at, status_code=t.status_code, latency_ms=t.latency_ms,
                                   response=t.response, error=t.error) for t in tries]) for r, tries in rows]
    return ok(DeliveryLog(items=items))


HANDLERS = [
    ("cmd", "replay_deliveries", on_replay_deliveries, Replayed),
    ("qry", "delivery_log", on_delivery_log, DeliveryLog),
]
