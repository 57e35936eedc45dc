"""Commands of the notifications service: subscriptions, read marks, the county's rule settings.
Each checks who may act and hands a pure decision to the executor; the subjects are listed once, in
HANDLERS at the end."""
from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from shared.catalog.notifications import (NotificationRulesAdopted, NotificationsRead, SubscriptionChanged,
                                          SubscriptionCreated, SubscriptionRemoved, SubscriptionSecretRotated)
from shared.ids import new_id
from shared.messaging import ok
from shared.service import Context
from services.notifications import queries, secrets
from services.notifications.commands import (AdoptNotificationRules, ChangeSubscription, CreateSubscription, MarkedRead,
                                             MarkRead, RemoveSubscription, RotateSecret, RulesAdopted,
                                             SubscriptionSaved)
from services.notifications.domain import (Reader, RuleSettingsAggregate, Subscription, check_filters_in_scope,
                                           scoped_filters)
from services.notifications.urls import check_url, refused


def reader_id(user: str) -> str:
    """A subject-safe aggregate id for a token's `sub` (which may hold any characters)."""
    return hashlib.sha256(user.encode()).hexdigest()[:32]


def _secret(ctx: Context, cmd_secret: str | None, channel: str) -> tuple[str | None, str | None]:
    """(sealed, shown once): a webhook gets a generated whsec_ secret when none is given."""
    secret = cmd_secret or (secrets.new_webhook_secret() if channel == "webhook" else None)
    if secret is None:
        return None, None
    return secrets.seal(ctx.service.settings.credentials_path, secret), (secret if not cmd_secret else None)


async def on_create_subscription(ctx: Context, cmd: CreateSubscription) -> dict:
    """订阅：县委组织部订阅全县，乡镇只能订阅本乡镇，支部书记只能订阅本支部。"""
    ctx.require_write()
    check_filters_in_scope(ctx.actor.role, ctx.actor.township, ctx.actor.branch, cmd.filters)
    await check_url(cmd.url, ctx.service.settings.webhook_allow_private_hosts)
    owner_township, owner_org = scoped_filters(ctx.actor.role, ctx.actor.township, ctx.actor.branch)
    sealed, shown = _secret(ctx, cmd.secret, cmd.channel)
    sid = cmd.subscription_id or new_id()
    event = SubscriptionCreated(subscription_id=sid, name=cmd.name, channel=cmd.channel, url=cmd.url,
                                secret_sealed=sealed, keyword=cmd.keyword, filters=cmd.filters,
                                owner_township_id=owner_township, owner_organization_id=owner_org)
    out = await ctx.service.repo.execute(ctx.county, Subscription, sid, ctx.meta, lambda s: s.create(event))
    return ok(SubscriptionSaved(subscription_id=sid, secret=shown), out.seq)


async def _owned(ctx: Context, sid: str) -> Subscription:
    ctx.require_write()
    loaded = await ctx.service.repo.get(ctx.county, Subscription, sid)
    loaded.state.check_owned_by(ctx.actor.role, ctx.actor.township, ctx.actor.branch)  # before: no hint it exists
    loaded.state.check_exists()
    return loaded.state


async def on_change_subscription(ctx: Context, cmd: ChangeSubscription) -> dict:
    """修改订阅；enabled=true 重新启用被停用的订阅。"""
    await _owned(ctx, cmd.subscription_id)
    if cmd.filters is not None:
        check_filters_in_scope(ctx.actor.role, ctx.actor.township, ctx.actor.branch, cmd.filters)
    if cmd.url:
        await check_url(cmd.url, ctx.service.settings.webhook_allow_private_hosts)
    event = SubscriptionChanged(**cmd.model_dump())
    out = await ctx.service.repo.execute(ctx.county, Subscription, cmd.subscription_id, ctx.meta,
                                         lambda s: s.change(event))
    return ok(SubscriptionSaved(subscription_id=cmd.subscription_id), out.seq)


async def on_rotate_secret(ctx: Context, cmd: RotateSecret) -> dict:
    """轮换密钥：旧密钥在过渡期内继续签名（webhook-signature 带多个签名）。"""
    sub = await _owned(ctx, cmd.subscription_id)
    if cmd.secret and sub.channel == "webhook" and not cmd.secret.startswith("whsec_"):
        raise refused("secret", "a webhook secret starts with whsec_")
    sealed, shown = _secret(ctx, cmd.secret, sub.channel or "webhook")
    until = (datetime.now(UTC) + timedelta(hours=cmd.keep_previous_hours)).isoformat()
    event = SubscriptionSecretRotated(subscription_id=cmd.subscription_id, secret_sealed=sealed,
                                      keep_previous_until=until)
    out = await ctx.service.repo.execute(ctx.county, Subscription, cmd.subscription_id, ctx.meta,
                                         lambda s: s.change(event))
    return ok(SubscriptionSaved(subscription_id=cmd.subscription_id, secret=shown), out.seq)


async def on_remove_subscription(ctx: Context, cmd: RemoveSubscription) -> dict:
    """删除订阅。"""
    await _owned(ctx, cmd.subscription_id)
    event = SubscriptionRemoved(subscription_id=cmd.subscription_id)
    out = await ctx.service.repo.execute(ctx.county, Subscription, cmd.subscription_id, ctx.meta,
                                         lambda s: s.change(event))
    return ok(SubscriptionSaved(subscription_id=cmd.subscription_id), out.seq)


async def on_mark_read(ctx: Context, cmd: MarkRead) -> dict:
    """标为已读（收件箱）：只能标记自己可见的通知。"""
    ctx.require_write()
    await ctx.service.caught_up(ctx.county, ctx.min_seq, "notifications.feed")
    await queries.check_visible(ctx, cmd.notification_ids)
    up_to = await queries.latest_seq(ctx) if cmd.all else None
    if not cmd.notification_ids and up_to is None:
        return ok(MarkedRead(unread=await queries.unread_count(ctx), marked=0))
    event = NotificationsRead(user=ctx.actor.sub, notification_ids=tuple(cmd.notification_ids), up_to_seq=up_to)
    out = await ctx.service.repo.execute(ctx.county, Reader, reader_id(ctx.actor.sub), ctx.meta,
                                         lambda r: r.mark(event))
    await ctx.service.caught_up(ctx.county, out.seq, "notifications.feed")
    return ok(MarkedRead(unread=await queries.unread_count(ctx), marked=len(cmd.notification_ids)), out.seq)


async def on_adopt_rules(ctx: Context, cmd: AdoptNotificationRules) -> dict:
    """本县通知规则（哪些规则开启、阈值、每日运行时间），自生效日起。"""
    ctx.require_county_department("只有县委组织部可以设置通知规则 / only the county department sets notification rules")
    event = NotificationRulesAdopted(**cmd.model_dump())
    out = await ctx.service.repo.execute(ctx.county, RuleSettingsAggregate, "county", ctx.meta, lambda _: [event])
    return ok(RulesAdopted(effective_from=cmd.effective_from), out.seq)


HANDLERS = [
    ("cmd", "create_subscription", on_create_subscription, SubscriptionSaved),
    ("cmd", "change_subscription", on_change_subscription, SubscriptionSaved),
    ("cmd", "rotate_secret", on_rotate_secret, SubscriptionSaved),
    ("cmd", "remove_subscription", on_remove_subscription, SubscriptionSaved),
    ("cmd", "mark_read", on_mark_read, MarkedRead),
    ("cmd", "adopt_rules", on_adopt_rules, RulesAdopted),
]
