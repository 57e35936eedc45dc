"""Commands and queries of the notifications service, and their replies (Pydantic, described fields)."""
from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.catalog.notifications import ChannelType, Filters, Severity

ID = r"^[A-Za-z0-9_-]{1,64}$"


class CreateSubscription(BaseModel):
    """订阅通知：webhook（Standard Webhooks 签名）或钉钉/企业微信/飞书群机器人。"""

    model_config = ConfigDict(extra="forbid")
    subscription_id: str | None = Field(None, pattern=ID, description="your id for it; generated when omitted")
    name: str = Field(min_length=1, max_length=80, description="e.g. 侨港镇党委工作群")
    channel: ChannelType = Field(description="webhook / dingtalk 钉钉 / wecom 企业微信 / feishu 飞书")
    url: str = Field(min_length=8, max_length=1000, description="endpoint URL, or the robot's webhook URL "
                                                                "(钉钉 https://oapi.dingtalk.com/robot/send?access_token=…)")
    secret: str | None = Field(None, min_length=8, max_length=200, repr=False,
                               description="钉钉加签 SEC…, 飞书签名校验 secret; webhooks: a whsec_ secret, generated when omitted")
    keyword: str | None = Field(None, max_length=40, description="the robot's custom keyword (自定义关键词), added to every message")
    filters: Filters = Field(default_factory=Filters, description="which notifications; empty lists mean all")

    @model_validator(mode="after")
    def _secret_fits_channel(self) -> "CreateSubscription":
        if self.channel == "webhook" and self.secret and not self.secret.startswith("whsec_"):
            raise ValueError("secret: a webhook secret starts with whsec_ (or leave it out to have one generated)")
        return self


class ChangeSubscription(BaseModel):
    """修改订阅（名称、地址、关键词、范围）或重新启用。"""

    model_config = ConfigDict(extra="forbid")
    subscription_id: str = Field(pattern=ID, description="the subscription")
    name: str | None = Field(None, min_length=1, max_length=80, description="new name")
    url: str | None = Field(None, min_length=8, max_length=1000, description="new URL")
    keyword: str | None = Field(None, max_length=40, description="new keyword")
    filters: Filters | None = Field(None, description="new filters")
    enabled: bool | None = Field(None, description="true re-enables a disabled subscription")


class RotateSecret(BaseModel):
    """轮换签名密钥：新密钥立即生效，旧密钥在过渡期内同时签名。"""

    model_config = ConfigDict(extra="forbid")
    subscription_id: str = Field(pattern=ID, description="the subscription")
    secret: str | None = Field(None, min_length=8, max_length=200, repr=False, description="new secret; generated when omitted")
    keep_previous_hours: int = Field(24, ge=0, le=24 * 30, description="hours the previous secret still signs")


class RemoveSubscription(BaseModel):
    """删除订阅。"""

    model_config = ConfigDict(extra="forbid")
    subscription_id: str = Field(pattern=ID, description="the subscription")


class MarkRead(BaseModel):
    """标为已读：指定通知，或 all=true 标记目前可见的全部通知。"""

    model_config = ConfigDict(extra="forbid")
    notification_ids: list[str] = Field(default_factory=list, max_length=500, description="notifications to mark read")
    all: bool = Field(False, description="mark everything visible up to now as read")


class AdoptNotificationRules(BaseModel):
    """本县通知规则设置（自生效日起）。"""

    model_config = ConfigDict(extra="forbid")
    effective_from: date = Field(description="from this date on")
    kinds_off: list[str] = Field(default_factory=list, description="rule codes to switch off, e.g. organization_founded")
    member_stars: bool = Field(False, description="notify a member's star level changing (frequent; opt-in)")
    enterprise_unorganized_days: int = Field(90, ge=1, le=3650, description="N days after qualifying without an organization")
    rectification_due_days: int = Field(14, ge=1, le=365, description="remind this many days before a plan is due")
    daily_at: str = Field("08:30", pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="daily run, China Standard Time")


class InboxQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    page: int = Field(1, ge=1, le=100_000, description="1-based page")
    size: int = Field(20, ge=1, le=100, description="items per page")
    unread_only: bool = Field(False, description="only unread notifications")


class FeedQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    after_seq: int = Field(0, ge=0, description="notifications after this stream position (an SSE Last-Event-ID)")
    limit: int = Field(500, ge=1, le=1000, description="at most this many")


class NoParameters(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- replies ----------------------------------------------------------------------------------------
class Notification(BaseModel):
    seq: int = Field(description="stream position: the SSE event id")
    notification_id: str = Field(description="stable id: receivers de-duplicate by it")
    kind: str = Field(description="rule code")
    severity: Severity = Field(description="info / warning / critical")
    title: str = Field(description="Chinese title")
    summary: str = Field(description="Chinese summary")
    organization_id: str | None = Field(None, description="the organization concerned")
    organization_name: str | None = Field(None, description="its name")
    township_id: str | None = Field(None, description="its township")
    link: str = Field(description="API path of the item")
    event_ids: list[str] = Field(description="the events behind it")
    occurred_on: date = Field(description="business date")
    read: bool | None = Field(None, description="inbox: read by the caller")


class Inbox(BaseModel):
    items: list[Notification] = Field(description="newest first")
    total: int = Field(description="notifications visible to the caller (with unread_only: unread ones)")
    unread: int = Field(description="unread notifications visible to the caller")
    page: int = Field(description="this page")
    size: int = Field(description="page size")


class Feed(BaseModel):
    items: list[Notification] = Field(description="oldest first, after after_seq, visible to the caller")


class MarkedRead(BaseModel):
    unread: int = Field(description="unread notifications left (once the read-model has the marks)")
    marked: int = Field(description="notifications marked now")


class SubscriptionView(BaseModel):
    subscription_id: str = Field(description="id")
    name: str = Field(description="name")
    channel: ChannelType = Field(description="channel")
    url: str = Field(description="URL with any access token masked")
    keyword: str | None = Field(None, description="robot keyword")
    filters: Filters = Field(description="filters")
    enabled: bool = Field(description="false after 410 Gone, a robot configuration error, or by a user")
    disabled_reason: str | None = Field(None, description="why it was disabled")


class SubscriptionList(BaseModel):
    items: list[SubscriptionView] = Field(description="subscriptions within the caller's scope")


class SubscriptionSaved(BaseModel):
    subscription_id: str = Field(description="id")
    secret: str | None = Field(None, description="the signing secret, shown once (new webhook or rotation)")


class RulesAdopted(BaseModel):
    effective_from: date = Field(description="in force from")
