"""Delivery state: one row per (notification, subscription), created in the transaction that folds the
notification into notifications.feed (so a notification is never without its deliveries), then moved
along by the deliverer: pending → delivered, or → failed after the last retry, or → abandoned when the
subscription is disabled. Every attempt is logged (status, latency, truncated response).

These tables sit beside the feed's but outside its rebuildable tables: a rebuild of the feed neither
sends old notifications again nor forgets a retry in progress (docs/decisions/015-notifications.md).
"""
from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import orjson
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, Text, and_, bindparam, func, select, update
from sqlalchemy.engine import Connection

from shared.db import upsert
from services.notifications.domain import matches

# Standard Webhooks' recommended schedule (Svix): ~27.6 h from the first attempt to the last
RETRY_AFTER_S = (5, 300, 1800, 7200, 18000, 36000, 36000)
JITTER = 0.2
MAX_RETRY_AFTER_S = 24 * 3600
ALERT_KINDS = frozenset({"delivery_failed", "subscription_disabled"})

delivery_metadata = MetaData()
deliveries = Table(
    "notification_delivery", delivery_metadata,
    Column("county", String(6), primary_key=True), Column("notification_id", String(40), primary_key=True),
    Column("subscription_id", String(64), primary_key=True), Column("seq", Integer, nullable=False),
    Column("status", String(12), nullable=False, index=True), Column("attempts", Integer, nullable=False),
    Column("next_at", DateTime(timezone=True), nullable=False, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False), Column("delivered_at", DateTime(timezone=True)),
    Column("last_status", Integer), Column("last_error", Text), Column("payload", Text, nullable=False))
attempts = Table(
    "notification_delivery_attempt", delivery_metadata,
    Column("county", String(6), primary_key=True), Column("notification_id", String(40), primary_key=True),
    Column("subscription_id", String(64), primary_key=True), Column("attempt", Integer, primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False), Column("status_code", Integer),
    Column("latency_ms", Integer), Column("response", Text), Column("error", Text))

RESPONSE_KEPT = 500  # characters of a response body kept in the attempt log


def next_delay(attempt: int, retry_after: float | None = None, rng: random.Random | None = None) -> float | None:
    """Seconds until the next try after failed attempt number `attempt` (1-based), with jitter; None when
    that was the last. A Retry-After (429/503) is honoured, capped at a day."""
    if attempt > len(RETRY_AFTER_S):
        return None
    base = RETRY_AFTER_S[attempt - 1]
    if retry_after is not None:
        return min(max(retry_after, 1.0), MAX_RETRY_AFTER_S)
    return base * (1 + (rng or random).uniform(-JITTER, JITTER))


def create_deliveries(conn: Connection, county: str, subscriptions: Table, issued: list[dict]) -> None:
    """For each new notification, a pending delivery to every enabled subscription that matches it.
    An alert about a subscription is not sent to that subscription."""
    rows = conn.execute(select(subscriptions).where(subscriptions.c.county == county, subscriptions.c.enabled == 1,
                                                    subscriptions.c.removed == 0)).all()
    if not rows:
        return
    now, out = datetime.now(UTC), []
    for n in issued:
        for s in rows:
            if n.get("condition") == f"subscription:{s.subscription_id}" or not matches(orjson.loads(s.filters), s.owner_township_id,
                                                         s.owner_organization_id, n):
                continue
            out.append({"county": county, "notification_id": n["notification_id"], "subscription_id": s.subscription_id,
                        "seq": n["seq"], "status": "pending", "attempts": 0, "next_at": now, "created_at": now,
                        "delivered_at": None, "last_status": None, "last_error": None, "payload": thin_payload(county, n)})
    upsert(conn, deliveries, out, ("county", "notification_id", "subscription_id"))


def thin_payload(county: str, n: dict) -> str:
    """The webhook body (Standard Webhooks: type, timestamp, data): ids, the link, a title for people."""
    data = {"county": county, "seq": n["seq"], "notification_id": n["notification_id"], "kind": n["kind"],
            "severity": n["severity"], "title": n["title"], "summary": n["summary"],
            "organization_id": n.get("organization_id"), "organization_name": n.get("organization_name"),
            "township_id": n.get("township_id"), "link": n["link"], "occurred_on": str(n["occurred_on"])}
    recorded = n["recorded_at"]
    stamp = recorded.isoformat() if isinstance(recorded, datetime) else str(recorded)
    return orjson.dumps({"type": f"notification.{n['kind']}", "timestamp": stamp, "data": data}).decode()


def due(conn: Connection, county: str, now: datetime, limit: int = 1000, busy: frozenset[str] = frozenset()) -> list:
    """Pending deliveries whose time has come, except those of subscriptions being drained right now (read
    again when their task ends: reading them on every wake-up cost more than sending them)."""
    where = [deliveries.c.county == county, deliveries.c.status == "pending", deliveries.c.next_at <= now]
    if busy:
        where.append(deliveries.c.subscription_id.not_in(sorted(busy)))
    return conn.execute(select(deliveries).where(*where)
                        .order_by(deliveries.c.next_at, deliveries.c.seq).limit(limit)).all()


def record_attempts(conn: Connection, done: list[tuple[object, dict]], now: datetime) -> list[str]:
    """Log each (delivery row, outcome) attempt and move the delivery on; answers each new status. Two
    executemany statements for the whole round (per-row statements made the database the limit at a few
    hundred deliveries a second). The log numbers every attempt ever made, computed by the insert itself
    (a replay restarts the retry schedule, `attempts`, not the log)."""
    logs, moves, statuses = [], [], []
    for row, outcome in done:
        attempt = row.attempts + 1
        logs.append({"c": row.county, "n": row.notification_id, "s": row.subscription_id, "at": now,
                     "code": outcome.get("status"), "ms": outcome.get("latency_ms"),
                     "resp": (outcome.get("response") or "")[:RESPONSE_KEPT] or None, "err": outcome.get("error")})
        status, next_at, delivered_at = "pending", row.next_at, row.delivered_at
        if outcome["ok"]:
            status, delivered_at = "delivered", now
        elif outcome.get("disable"):
            status = "abandoned"
        else:
            delay = next_delay(attempt, outcome.get("retry_after"))
            if delay is None:
                status = "failed"
            else:
                next_at = now + timedelta(seconds=delay)
        moves.append({"b_c": row.county, "b_n": row.notification_id, "b_s": row.subscription_id, "b_attempts": attempt,
                      "b_status": status, "b_next": next_at, "b_delivered": delivered_at,
                      "b_code": outcome.get("status"), "b_err": outcome.get("error")})
        statuses.append(status)
    if logs:
        a = attempts
        numbered = select(bindparam("c", type_=String), bindparam("n", type_=String), bindparam("s", type_=String),
                          func.coalesce(func.max(a.c.attempt), 0) + 1, bindparam("at", type_=a.c.at.type),
                          bindparam("code", type_=Integer), bindparam("ms", type_=Integer), bindparam("resp", type_=Text),
                          bindparam("err", type_=Text)).where(
            a.c.county == bindparam("c"), a.c.notification_id == bindparam("n"), a.c.subscription_id == bindparam("s"))
        conn.execute(a.insert().from_select(["county", "notification_id", "subscription_id", "attempt", "at",
                                             "status_code", "latency_ms", "response", "error"], numbered), logs)
        d = deliveries
        conn.execute(update(d).where(d.c.county == bindparam("b_c"), d.c.notification_id == bindparam("b_n"),
                                     d.c.subscription_id == bindparam("b_s"))
                     .values(attempts=bindparam("b_attempts"), status=bindparam("b_status"),
                             next_at=bindparam("b_next", type_=d.c.next_at.type),
                             delivered_at=bindparam("b_delivered", type_=d.c.delivered_at.type),
                             last_status=bindparam("b_code", type_=Integer), last_error=bindparam("b_err", type_=Text)),
                     moves)
    return statuses


def abandon_subscription(conn: Connection, county: str, subscription_id: str) -> None:
    conn.execute(update(deliveries).where(deliveries.c.county == county, deliveries.c.subscription_id == subscription_id,
                                          deliveries.c.status == "pending").values(status="abandoned"))


def _key(row):
    return and_(deliveries.c.county == row.county, deliveries.c.notification_id == row.notification_id,
                deliveries.c.subscription_id == row.subscription_id)


def replay(conn: Connection, county: str, sub, notifications: Table, from_seq: int | None, only_failed: bool) -> int:
    """Send again: failed (and abandoned) deliveries of the subscription, or every notification from
    `from_seq` on that it matches (delivered ones too). Answers how many are queued."""
    now = datetime.now(UTC)
    fresh = {"status": "pending", "attempts": 0, "next_at": now, "last_error": None, "last_status": None}
    if only_failed:
        where = [deliveries.c.county == county, deliveries.c.subscription_id == sub.subscription_id,
                 deliveries.c.status.in_(("failed", "abandoned"))]
        if from_seq is not None:
            where.append(deliveries.c.seq >= from_seq)
        return conn.execute(update(deliveries).where(*where).values(**fresh)).rowcount
    n = notifications
    rows = [dict(r._mapping) for r in conn.execute(select(n).where(n.c.county == county, n.c.seq >= (from_seq or 0)))]
    matching = [r for r in rows if matches(orjson.loads(sub.filters), sub.owner_township_id, sub.owner_organization_id, r)]
    upsert(conn, deliveries, [{"county": county, "notification_id": r["notification_id"],
                               "subscription_id": sub.subscription_id, "seq": r["seq"], "created_at": now,
                               "delivered_at": None, "payload": thin_payload(county, r), **fresh} for r in matching],
           ("county", "notification_id", "subscription_id"))
    return len(matching)


def log_of(conn: Connection, county: str, subscription_id: str, status: str | None, limit: int, offset: int) -> list:
    where = [deliveries.c.county == county, deliveries.c.subscription_id == subscription_id]
    if status:
        where.append(deliveries.c.status == status)
    rows = conn.execute(select(deliveries).where(*where).order_by(deliveries.c.seq.desc())
                        .limit(limit).offset(offset)).all()
    out = []
    for r in rows:
        tries = conn.execute(select(attempts).where(attempts.c.county == county,
                                                    attempts.c.notification_id == r.notification_id,
                                                    attempts.c.subscription_id == subscription_id)
                             .order_by(attempts.c.attempt.desc()).limit(20)).all()
        out.append((r, tries))
    return out
