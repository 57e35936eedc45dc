"""The live notification feed behind the gateway's SSE endpoint: push, not polling.

Per county, one ordered push consumer on the county's stream, filtered to NotificationIssued subjects,
is started with the county's first SSE client (from the stream's last sequence then); each
notification is fanned out in-process to the queue of every connected client whose token's scope
sees it. A client joining gets everything after the last notification fanned out so far
(`last_seq`); what a reconnecting client missed up to it (after its Last-Event-ID) comes from the
notifications service's feed query, read once that read-model has reached `last_seq` — so the
backlog and the live part meet without a gap, and an item in both is sent once (by sequence).
"""
from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any

import orjson
import structlog
from nats.js.api import ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError
from sse_starlette import ServerSentEvent

from shared.auth import Actor
from shared.authenticity import signed_from_of
from shared.envelope import MalformedEvent, parse_envelope, subject_for
from shared.errors import DomainError
from shared.signing import EventKeys
from shared.eventstore import stream_name
from services.notifications.domain import visible_to

log = structlog.get_logger(__name__)
CLIENT_QUEUE = 2000  # a client this far behind is disconnected; it comes back with Last-Event-ID


@dataclass(eq=False)
class LiveClient:
    actor: Actor
    queue: asyncio.Queue = field(default_factory=lambda: asyncio.Queue(CLIENT_QUEUE))
    overflowed: bool = False

    def sees(self, n: dict[str, Any]) -> bool:
        a = self.actor
        return visible_to(a.role, a.township, a.branch, n.get("township_id"), n.get("organization_id"))

    def offer(self, item: tuple[int, dict]) -> None:
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            self.overflowed = True


class CountyFeed:
    def __init__(self, js, county: str, keys_path: Any = None):
        self.js, self.county, self.keys_path = js, county, keys_path
        self.signed_from = 1
        self.clients: set[LiveClient] = set()
        self.last_seq = 0  # the last notification fanned out (the stream's last sequence at the start)
        self.sub = None

    async def start(self) -> None:
        try:
            info = await self.js.stream_info(stream_name(self.county))
        except NotFoundError:
            raise DomainError("county_not_found", f"县 {self.county} 未开通 / county {self.county} is not set up",
                              404) from None
        self.last_seq, self.signed_from = info.state.last_seq, signed_from_of(info.config.metadata)
        self.sub = await self.js.subscribe(
            f"pb.{self.county}.evt.notifications.notification.>", stream=stream_name(self.county),
            ordered_consumer=True, cb=self._on_msg, deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
            config=ConsumerConfig(opt_start_seq=self.last_seq + 1), idle_heartbeat=5.0)

    async def _on_msg(self, msg) -> None:
        seq = msg.metadata.sequence.stream
        self.last_seq = max(self.last_seq, seq)
        try:
            env = parse_envelope(msg.data)
            item = LiveItem(notification_item(seq, env))
        except (MalformedEvent, KeyError, TypeError, AttributeError):
            log.warning("live.undecodable", county=self.county, seq=seq)
            return
        if refused := self._inauthentic(seq, msg.subject, env):  # pushed to browsers: only what a writer signed
            log.warning("live.not_authentic", county=self.county, seq=seq, error=refused)
            return
        item.wire = sse_event(item).encode()  # once, for every client it reaches
        for client in list(self.clients):
            if client.sees(item):
                client.offer((seq, item))

    def _inauthentic(self, seq: int, subject: str, env: dict[str, Any]) -> str | None:
        if self.keys_path is None:
            return None
        if subject != subject_for(self.county, env["context"], env["aggregate_type"], env["aggregate_id"]):
            return "the envelope belongs to another subject"
        return EventKeys.shared(self.keys_path).check(env, seq, self.signed_from, county=self.county)

    async def stop(self) -> None:
        if self.sub is not None:
            with contextlib.suppress(Exception):
                await self.sub.unsubscribe()


class LiveItem(dict):
    """A pushed notification with its SSE frame, encoded once rather than once per client."""
    wire: bytes = b""


def sse_event(item: dict) -> ServerSentEvent:
    return ServerSentEvent(data=orjson.dumps(item).decode(), id=str(item["seq"]), event="notification")


def notification_item(seq: int, env: dict[str, Any]) -> dict[str, Any]:
    """The SSE data of a stored NotificationIssued (the same fields as the feed and inbox)."""
    p = env["payload"]
    keys = ("notification_id", "kind", "severity", "title", "summary", "organization_id", "organization_name",
            "township_id", "link", "event_ids", "occurred_on")
    return {"seq": seq, **{k: p.get(k) for k in keys}}


class LiveFeed:
    def __init__(self, nc, keys_path: Any = None):
        """keys_path: the published event keys; each pushed notification is authenticated with them."""
        self.js, self.keys_path = nc.jetstream(), keys_path
        self.counties: dict[str, CountyFeed] = {}
        self._lock = asyncio.Lock()

    async def join(self, county: str, actor: Actor) -> tuple[LiveClient, int]:
        """A new client of the county's feed and the sequence its live part starts after: every
        notification after it is offered to the client (joining and fanning out share one event loop)."""
        async with self._lock:
            feed = self.counties.get(county)
            if feed is None:
                feed = CountyFeed(self.js, county, self.keys_path)
                await feed.start()
                self.counties[county] = feed
        client = LiveClient(actor)
        feed.clients.add(client)
        return client, feed.last_seq

    def leave(self, county: str, client: LiveClient) -> None:
        feed = self.counties.get(county)
        if feed is not None:
            feed.clients.discard(client)

    @property
    def connected(self) -> int:
        return sum(len(f.clients) for f in self.counties.values())

    async def close(self) -> None:
        for feed in self.counties.values():
            await feed.stop()
        self.counties.clear()
