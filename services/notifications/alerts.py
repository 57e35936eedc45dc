"""Alerts about the notification channels themselves, issued like any notification (through the outbox
of notifications.rules, so the issuer records them once): a subscription disabled (410 Gone, a robot's
configuration error, an address now refused) and deliveries that failed after the last retry (one alert
per subscription per day). An alert is never delivered to the subscription it is about."""
from __future__ import annotations

from datetime import datetime

import orjson
from sqlalchemy.engine import Connection

from shared.db import upsert
from services.notifications.domain import notification_id
from services.notifications.projections.rules_state import outbox
from services.notifications.rules import Draft


def _queue(conn: Connection, county: str, draft: Draft, now: datetime) -> None:
    upsert(conn, outbox, [{"county": county, "notification_id": draft.notification_id,
                           "payload": orjson.dumps(draft.payload()).decode(), "causation_id": None,
                           "decided_at": now}], ("county", "notification_id"))


def _draft(county: str, kind: str, key: str, title: str, summary: str, sub, now: datetime) -> Draft:
    return Draft(notification_id(county, kind, key), kind, "warning", title, summary,
                 f"/api/v1/counties/{county}/subscriptions/{sub.subscription_id}/deliveries", now.date(),
                 township_id=sub.owner_township_id, organization_id=sub.owner_organization_id,
                 condition=f"subscription:{sub.subscription_id}", period=now.date().isoformat())


def alert_disabled(conn: Connection, county: str, sub, reason: str, now: datetime) -> None:
    _queue(conn, county, _draft(county, "subscription_disabled", f"{sub.subscription_id}:{now.isoformat()}",
                                f"通知订阅“{sub.name}”已停用", f"通知渠道“{sub.name}”已停用：{reason[:200]}。"
                                "请核对地址、密钥或关键词后重新启用。", sub, now), now)


def alert_failed(conn: Connection, county: str, sub, now: datetime) -> None:
    _queue(conn, county, _draft(county, "delivery_failed", f"{sub.subscription_id}:{now.date().isoformat()}",
                                f"通知订阅“{sub.name}”投递失败", f"通知渠道“{sub.name}”有通知在最后一次重试后仍未送达，"
                                "可在投递记录中查看原因并重新投递。", sub, now), now)
