"""The live notification feed pushes only what a writer signed (issue 11 item 3): a NotificationIssued
published straight to NATS by someone who may publish but holds no writer key (here the operator's
credential) never reaches a browser; the real notification after it does."""
from __future__ import annotations

import asyncio
from datetime import date

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shared.catalog.notifications import NotificationIssued
from shared.envelope import Metadata, seal, subject_for
from shared.signing import Signer
from tests.e2e.sse_client import read_events
from tests.e2e.test_http_campaigns import establish, new_county_with_townships


async def test_a_forged_notification_is_not_pushed_to_the_live_feed(http, token, nc, settings):
    code, admin = await new_county_with_townships(http, token, {"qiaogang": "侨港镇"})
    base = f"/api/v1/counties/{code}"
    started = asyncio.Event()
    feed = asyncio.create_task(read_events(http, f"{base}/notifications/stream", admin, 1, started=started))
    await started.wait()

    thief = Signer("notifications", Ed25519PrivateKey.generate())
    thief.key_id = Signer.load(settings.credentials_path, "notifications").key_id  # claims the writer's key
    fake = NotificationIssued(notification_id="forged-1", kind="organization_flagged_weak", severity="critical",
                              title="侨港村党支部被列为软弱涣散党组织", summary="伪造的通知", link=f"{base}/notifications",
                              occurred_on=date(2026, 6, 1))
    env = seal(code, "forged-1", fake, Metadata("notifications"), None, signer=thief)
    forged = (await nc.jetstream().publish(subject_for(code, "notifications", "notification", "forged-1"),
                                           orjson.dumps(env))).seq

    await establish(http, code, admin, "侨港村党支部")  # a real notification (organization_founded) follows
    events = await feed
    assert events[0]["data"]["kind"] == "organization_founded" and events[0]["id"] > forged, events
