"""Events of the notifications context: notifications issued, subscriptions, read marks.

Aggregates and ids:
- "notification", id = the notification id, derived from the rule and the event(s) or condition and
  period behind it (services/notifications/domain.py `notification_id`): its subject holds exactly
  one event, appended with "subject must be empty", so a second issuer, a restart or a rebuild that
  decides the same notification again is refused by the server instead of issuing it twice.
- "subscription", id = subscription id: created, changed, secret rotated, removed.
- "reader", id = the user (token `sub`): which notifications that user has read.
"""
from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from shared.catalog.base import DomainEvent

Severity = Literal["info", "warning", "critical"]
ChannelType = Literal["webhook", "dingtalk", "wecom", "feishu"]


class NotificationIssued(DomainEvent, context="notifications", aggregate="notification"):
    notification_id: str
    kind: str = Field(description="rule code, e.g. organization_flagged_weak")
    severity: Severity
    title: str = Field(description="Chinese title, e.g. 侨港村党支部被列为软弱涣散党组织")
    summary: str
    organization_id: str | None = None
    organization_name: str | None = None
    township_id: str | None = None
    link: str = Field(description="API path of the item, e.g. /api/v1/counties/450503/rectification-cases/2026.x")
    event_ids: tuple[str, ...] = Field((), description="the events behind it")
    condition: str | None = Field(None, description="time-based rule: the condition key (e.g. term_expiring)")
    period: str | None = Field(None, description="time-based rule: the period it was issued for (e.g. 2026-12)")
    occurred_on: date


class Filters(BaseModel):
    """Which notifications a subscription receives; an empty list means any."""

    township_ids: tuple[str, ...] = Field((), description="only these townships")
    organization_ids: tuple[str, ...] = Field((), description="only these organizations")
    severities: tuple[Severity, ...] = Field((), description="only these severities")
    kinds: tuple[str, ...] = Field((), description="only these rule codes")


class SubscriptionCreated(DomainEvent, context="notifications", aggregate="subscription"):
    subscription_id: str
    name: str
    channel: ChannelType
    url: str = Field(description="the endpoint or robot webhook URL (WeCom: its key is in the URL)")
    secret_sealed: str | None = Field(None, description="the signing secret, encrypted with the data dir's key (Fernet)")
    keyword: str | None = Field(None, description="DingTalk/Feishu custom keyword the message must contain")
    filters: Filters
    owner_township_id: str | None = Field(None, description="a township operator's subscription stays in it")
    owner_organization_id: str | None = Field(None, description="a branch secretary's stays in their branch")


class SubscriptionChanged(DomainEvent, context="notifications", aggregate="subscription"):
    subscription_id: str
    name: str | None = None
    url: str | None = None
    keyword: str | None = None
    filters: Filters | None = None
    enabled: bool | None = Field(None, description="re-enable after a disable (410, configuration error)")


class SubscriptionSecretRotated(DomainEvent, context="notifications", aggregate="subscription"):
    subscription_id: str
    secret_sealed: str = Field(description="the new secret, encrypted; the previous one signs too until keep_until")
    keep_previous_until: str | None = Field(None, description="ISO time until which the previous secret also signs")


class SubscriptionDisabled(DomainEvent, context="notifications", aggregate="subscription"):
    subscription_id: str
    reason: str = Field(description="gone (HTTP 410), configuration error (robot errcode), ...")


class SubscriptionRemoved(DomainEvent, context="notifications", aggregate="subscription"):
    subscription_id: str


class NotificationsRead(DomainEvent, context="notifications", aggregate="reader"):
    user: str
    notification_ids: tuple[str, ...] = ()
    up_to_seq: int | None = Field(None, description="everything at or below this feed position counts as read")


class NotificationRulesAdopted(DomainEvent, context="notifications", aggregate="settings"):
    """The county's notification rule settings from a date on (earlier dates keep the earlier settings)."""

    effective_from: date
    kinds_off: tuple[str, ...] = Field((), description="rule codes switched off")
    member_stars: bool = Field(False, description="opt-in: a member's star level changing (frequent)")
    enterprise_unorganized_days: int = Field(90, ge=1, description="N days after qualifying without an organization")
    rectification_due_days: int = Field(14, ge=1, description="remind this many days before a plan is due")
    daily_at: str = Field("08:30", pattern=r"^\d{2}:\d{2}$", description="China Standard Time of the daily run")
