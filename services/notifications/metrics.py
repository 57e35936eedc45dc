"""Delivery metrics of the notifications service (prometheus-client's default registry, served on the
process's status port like every other figure, shared/metrics.py). Labels are bounded: the channel
(webhook, dingtalk, wecom, feishu) and the outcome; the backlog and disabled subscriptions per county,
which an operator needs to see (the same reasoning as the projection gauges)."""
from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram
from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from shared.metrics import LATENCY_BUCKETS

DELIVERIES = Counter("dangjian_notification_deliveries_total",
                     "Delivery attempts by channel and outcome: delivered, retry (will be tried again), failed "
                     "(after the last retry), disabled (the endpoint answered 410 or a robot configuration error)",
                     ["channel", "outcome"])
ATTEMPT_SECONDS = Histogram("dangjian_notification_attempt_duration_seconds",
                            "Time of one delivery attempt (request to answer, or to the error)", ["channel"],
                            buckets=LATENCY_BUCKETS)
PENDING = Gauge("dangjian_notification_deliveries_pending",
                "Deliveries not yet delivered, failed or abandoned (the backlog), of them `retrying` after a "
                "failed attempt", ["county", "state"])
DISABLED = Gauge("dangjian_notification_subscriptions_disabled",
                 "Subscriptions disabled by their endpoint (410, robot configuration error) and not re-enabled",
                 ["county"])


def record_attempt(channel: str, outcome: dict, statuses: list[str]) -> None:
    """One attempt, sent for `len(statuses)` deliveries (a robot digest carries several)."""
    ATTEMPT_SECONDS.labels(channel).observe(outcome.get("latency_ms", 0) / 1000)
    for status in statuses:
        label = {"delivered": "delivered", "failed": "failed", "abandoned": "disabled"}.get(status, "retry")
        DELIVERIES.labels(channel, label).inc()


def refresh(conn: Connection, county: str, deliveries, subscriptions) -> None:
    """The backlog and disabled-subscription gauges of one county, read from the delivery tables."""
    d, s = deliveries, subscriptions
    rows = conn.execute(select(d.c.attempts > 0, func.count()).where(d.c.county == county, d.c.status == "pending")
                        .group_by(d.c.attempts > 0)).all()
    counts = {bool(retrying): n for retrying, n in rows}
    PENDING.labels(county, "new").set(counts.get(False, 0))
    PENDING.labels(county, "retrying").set(counts.get(True, 0))
    DISABLED.labels(county).set(conn.execute(select(func.count()).select_from(s).where(
        s.c.county == county, s.c.enabled == 0, s.c.removed == 0)).scalar() or 0)
