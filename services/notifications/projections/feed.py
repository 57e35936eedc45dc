"""notifications.feed: every notification issued (with its stream position, the SSE id), each user's
read marks, and the subscriptions. Delivery state lives beside it (services/notifications/deliveries.py):
a new notification's deliveries are created here, in the transaction of the checkpoint."""
from __future__ import annotations

from collections.abc import Callable, Sequence

import orjson
from sqlalchemy import Column, Date, DateTime, Integer, String, Text, select
from sqlalchemy.engine import Connection, Engine

from shared.catalog import notifications as n
from shared.db import upsert
from shared.envelope import StoredEvent
from shared.projection import Projection
from services.notifications.deliveries import create_deliveries, delivery_metadata

SUBSCRIPTION_EVENTS = {"SubscriptionCreated", "SubscriptionChanged", "SubscriptionSecretRotated",
                       "SubscriptionDisabled", "SubscriptionRemoved"}


class FeedProjection(Projection):
    name = "notifications.feed"
    subjects = ("notifications.notification.>", "notifications.reader.>", "notifications.subscription.>")
    handles = frozenset({"NotificationIssued", "NotificationsRead", *SUBSCRIPTION_EVENTS})
    on_commit: Callable[[str], None] | None = None  # set by the service: wakes the deliverer

    def define_tables(self) -> None:
        t = self.table
        self.notifications = t(
            "nf_notification", Column("county", String(6), primary_key=True), Column("seq", Integer, primary_key=True),
            Column("notification_id", String(40), nullable=False, unique=True), Column("kind", String(40), nullable=False),
            Column("severity", String(10), nullable=False), Column("title", Text, nullable=False),
            Column("summary", Text, nullable=False), Column("organization_id", String(64), index=True),
            Column("organization_name", String(120)), Column("township_id", String(64), index=True),
            Column("link", Text, nullable=False), Column("event_ids", Text, nullable=False),
            Column("occurred_on", Date, nullable=False), Column("recorded_at", DateTime(timezone=True), nullable=False))
        self.reads = t("nf_read", Column("county", String(6), primary_key=True), Column("user", String(80), primary_key=True),
                       Column("notification_id", String(40), primary_key=True))
        self.read_marks = t("nf_read_mark", Column("county", String(6), primary_key=True),
                            Column("user", String(80), primary_key=True), Column("up_to_seq", Integer, nullable=False))
        self.subscriptions = t(
            "nf_subscription", Column("county", String(6), primary_key=True),
            Column("subscription_id", String(64), primary_key=True), Column("name", String(80), nullable=False),
            Column("channel", String(10), nullable=False), Column("url", Text, nullable=False),
            Column("secret_sealed", Text), Column("previous_secret_sealed", Text), Column("previous_until", String(40)),
            Column("keyword", String(40)), Column("filters", Text, nullable=False),
            Column("owner_township_id", String(64)), Column("owner_organization_id", String(64)),
            Column("enabled", Integer, nullable=False), Column("disabled_reason", Text),
            Column("removed", Integer, nullable=False), Column("seq", Integer, nullable=False))

    def apply(self, conn: Connection, county: str, events: Sequence[StoredEvent]) -> None:
        issued, reads, marks, subs = [], [], {}, {}
        for ev in events:
            e = ev.event
            if isinstance(e, n.NotificationIssued):
                row = e.model_dump(mode="python")  # condition: an alert is not sent to the subscription it is about
                row.update(county=county, seq=ev.seq, event_ids=orjson.dumps(list(e.event_ids)).decode(),
                           recorded_at=ev.recorded_at)
                issued.append(row)
            elif isinstance(e, n.NotificationsRead):
                reads += [{"county": county, "user": e.user, "notification_id": i} for i in e.notification_ids]
                if e.up_to_seq is not None:
                    marks[e.user] = max(e.up_to_seq, marks.get(e.user) or self._mark(conn, county, e.user))
            else:
                sub = subs.get(e.subscription_id) or self._subscription(conn, county, e.subscription_id)
                subs[e.subscription_id] = _fold_subscription(sub, county, e, ev.seq)
        upsert(conn, self.notifications, issued, ("county", "seq"))
        upsert(conn, self.reads, reads, ("county", "user", "notification_id"))
        upsert(conn, self.read_marks, [{"county": county, "user": u, "up_to_seq": s} for u, s in marks.items()],
               ("county", "user"))
        upsert(conn, self.subscriptions, [s for s in subs.values() if s.get("name")], ("county", "subscription_id"))
        if issued and not self.suffix:  # a rebuild creates no deliveries
            create_deliveries(conn, county, self.subscriptions, issued)

    def create_tables(self, engine: Engine) -> None:
        super().create_tables(engine)
        delivery_metadata.create_all(engine)  # beside the feed's tables, never rebuilt

    def after_commit(self, county: str, events: Sequence[StoredEvent]) -> None:
        if events and self.on_commit is not None and not self.suffix:
            self.on_commit(county)

    def _mark(self, conn: Connection, county: str, user: str) -> int:
        t = self.read_marks
        return conn.execute(select(t.c.up_to_seq).where(t.c.county == county, t.c.user == user)).scalar() or 0

    def _subscription(self, conn: Connection, county: str, sid: str) -> dict:
        t = self.subscriptions
        row = conn.execute(select(t).where(t.c.county == county, t.c.subscription_id == sid)).first()
        return dict(row._mapping) if row else {}


def _fold_subscription(sub: dict, county: str, e, seq: int) -> dict:
    sub = dict(sub, county=county, subscription_id=e.subscription_id, seq=seq)
    if isinstance(e, n.SubscriptionCreated):
        sub.update(name=e.name, channel=e.channel, url=e.url, secret_sealed=e.secret_sealed, keyword=e.keyword,
                   filters=e.filters.model_dump_json(), owner_township_id=e.owner_township_id,
                   owner_organization_id=e.owner_organization_id, enabled=1, disabled_reason=None, removed=0,
                   previous_secret_sealed=None, previous_until=None)
    elif isinstance(e, n.SubscriptionChanged):
        for key in ("name", "url", "keyword"):
            if getattr(e, key) is not None:
                sub[key] = getattr(e, key)
        if e.filters is not None:
            sub["filters"] = e.filters.model_dump_json()
        if e.enabled is not None:
            sub.update(enabled=int(e.enabled), disabled_reason=None if e.enabled else "disabled by a user")
    elif isinstance(e, n.SubscriptionSecretRotated):
        sub.update(previous_secret_sealed=sub.get("secret_sealed"), previous_until=e.keep_previous_until,
                   secret_sealed=e.secret_sealed)
    elif isinstance(e, n.SubscriptionDisabled):
        sub.update(enabled=0, disabled_reason=e.reason)
    elif isinstance(e, n.SubscriptionRemoved):
        sub.update(removed=1, enabled=0)
    return sub
