"""Issue 10, the channels, over HTTP against real receivers on loopback: Standard Webhooks with
retries (500, 429 + Retry-After), 410 disabling the endpoint with an alert, secret rotation signing
with both secrets, the delivery log, failure after the last retry and replay; DingTalk 加签, WeCom and
Feishu robots signed and shaped as documented, their rate limit merging into a digest, and a robot's
configuration error disabling it."""
from __future__ import annotations

import asyncio
from datetime import datetime

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import update

from services.notifications import deliveries as d
from tests.e2e.receivers import Receivers
from tests.e2e.test_http_campaigns import establish, new_county_with_townships

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@pytest.fixture
async def receivers():
    r = await Receivers().start()
    yield r
    await r.stop()


async def eventually(check, timeout: float = 20.0, what: str = ""):
    for _ in range(int(timeout / 0.1)):
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        await asyncio.sleep(0.1)
    raise AssertionError(f"never happened: {what}")


async def subscribe(http, base, admin, **body) -> dict:
    r = await http.post(f"{base}/subscriptions", headers=admin, json=body)
    assert r.status_code == 201, r.text
    return r.json()


async def test_webhooks_are_signed_retried_disabled_rotated_logged_and_replayed(http, token, system, receivers):
    code, admin = await new_county_with_townships(http, token, {"qiaogang": "侨港镇"})
    base, rx = f"/api/v1/counties/{code}", receivers
    before = {o: _delivered(o) for o in ("delivered", "retry", "failed", "disabled")}
    rx.secrets = {"steady": [SECRET], "flaky": [SECRET], "gone": [SECRET], "critical": [SECRET]}
    rx.plan["flaky"].extend([500, (429, 1)])
    rx.plan["gone"].append(410)
    for name in ("steady", "flaky", "gone"):
        await subscribe(http, base, admin, subscription_id=name, name=name, channel="webhook",
                        url=f"{rx.url}/hook/{name}", secret=SECRET)
    await subscribe(http, base, admin, subscription_id="critical", name="只要严重", channel="webhook",
                    url=f"{rx.url}/hook/critical", secret=SECRET, filters={"severities": ["critical"]})
    generated = await subscribe(http, base, admin, name="generated", channel="webhook", url=f"{rx.url}/hook/gen")
    assert generated["secret"].startswith("whsec_")  # shown once
    rx.secrets["gen"] = [generated["secret"]]
    r = await http.post(f"{base}/subscriptions", headers=admin, json={"name": "x", "channel": "webhook",
                                                                      "url": "ftp://example.org/x"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"].endswith("url")

    org = await establish(http, code, admin, "侨港村党支部")
    r = await http.post(f"{base}/rectification-cases", headers=admin, json={
        "organization_id": org, "campaign": "2026", "reasons": ["secretary_unfit"],
        "screened_on": "2026-01-10", "decided_on": "2026-01-20"})
    assert r.status_code == 201, r.text

    await eventually(lambda: len(rx.ids("steady")) >= 2, what="steady got both")
    first = rx.got["steady"][0]
    assert first["body"]["type"] == "notification.organization_founded" and first["body"]["data"]["county"] == code
    assert first["id"] == first["body"]["data"]["notification_id"]  # webhook-id = the notification id
    await eventually(lambda: rx.got["critical"], what="critical got its one")  # endpoints are drained apart
    assert [g["body"]["data"]["kind"] for g in rx.got["critical"]] == ["organization_flagged_weak"]
    want = {g["id"] for g in rx.got["steady"][:2]}
    await eventually(lambda: want <= rx.ids("flaky"), timeout=30, what="flaky got both after retries")
    assert not rx.refused

    log = (await http.get(f"{base}/subscriptions/flaky/deliveries", headers=admin)).json()["items"]
    tries = {tuple(a["status_code"] for a in reversed(i["log"])): i for i in log if i["notification_id"] in want}
    assert set(tries) == {(500, 200), (429, 200)} and all(i["status"] == "delivered" for i in tries.values())
    throttled = [a["at"] for a in tries[(429, 200)]["log"]]
    assert all(a["latency_ms"] is not None for i in log for a in i["log"])
    gap = (datetime.fromisoformat(throttled[0]) - datetime.fromisoformat(throttled[1])).total_seconds()
    assert gap < 3.5  # Retry-After: 1 honoured (the schedule's first retry is 4-6 s)

    # 410 Gone: the endpoint is disabled, its deliveries abandoned, the county told
    subs = await eventually(lambda: _subs(http, base, admin, "gone", enabled=False), what="gone disabled")
    assert "410" in subs["disabled_reason"]
    inbox = await eventually(lambda: _kind(http, base, admin, "subscription_disabled"), what="alert")
    assert "gone" in inbox["title"]

    # rotation: the next notification carries a signature by each secret, each verifies alone
    r = await http.post(f"{base}/subscriptions/steady/secret-rotation", headers=admin, json={"keep_previous_hours": 1})
    new_secret = r.json()["secret"]
    rx.secrets["steady"] = [new_secret]
    await establish(http, code, admin, "电建村党支部")
    rotated = await eventually(lambda: _titled(rx, "steady", "电建村"), what="delivery after the rotation")
    assert rotated["signatures"].count("v1,") == 2
    rx.secrets["steady"] = [SECRET]
    await establish(http, code, admin, "北暮村党支部")
    await eventually(lambda: _titled(rx, "steady", "北暮村"), what="the previous secret still verifies")

    # after the last retry: failed, an alert, and a replay that delivers it
    rx.refuse_titles["flaky"].add("南万村")
    await establish(http, code, admin, "南万村党支部")
    svc = system.service("notifications")
    await eventually(lambda: _set_last_attempt(svc, code), what="a pending flaky delivery")
    await eventually(lambda: _status(http, base, admin, "flaky", "failed"), timeout=45, what="failed")
    await eventually(lambda: _kind(http, base, admin, "delivery_failed"), what="failure alert")
    rx.refuse_titles["flaky"].clear()
    r = await http.post(f"{base}/subscriptions/flaky/replay", headers=admin, json={})
    assert r.status_code == 200 and r.json()["queued"] == 1, r.text
    await eventually(lambda: _titled(rx, "flaky", "南万村"), what="replayed")
    assert not rx.refused

    # the metrics say the same: outcomes by channel, attempt latency, the disabled endpoint, no backlog left
    grown = {o: _delivered(o) - n for o, n in before.items()}
    assert grown["delivered"] >= 10 and grown["retry"] >= 3 and grown["failed"] >= 1 and grown["disabled"] >= 1, grown
    assert REGISTRY.get_sample_value("dangjian_notification_attempt_duration_seconds_count", {"channel": "webhook"})
    await eventually(lambda: _gauge("dangjian_notification_subscriptions_disabled", county=code) == 1
                     and _gauge("dangjian_notification_deliveries_pending", county=code, state="retrying") == 0,
                     what="gauges refreshed")


def _delivered(outcome: str) -> float:
    return REGISTRY.get_sample_value("dangjian_notification_deliveries_total",
                                     {"channel": "webhook", "outcome": outcome}) or 0.0


def _gauge(name: str, **labels) -> float | None:
    return REGISTRY.get_sample_value(name, labels)


def _titled(rx, name: str, part: str):
    return next((g for g in rx.got[name] if part in g["body"]["data"]["title"]), None)


def _set_last_attempt(svc, code: str) -> bool:
    """Pretend the pending delivery already used every retry but the last (27 h are not waited for) — once
    its first attempt failed and it waits for the next (not while an attempt is in flight)."""
    with svc.engine.begin() as conn:
        done = conn.execute(update(d.deliveries).where(
            d.deliveries.c.county == code, d.deliveries.c.subscription_id == "flaky", d.deliveries.c.status == "pending",
            d.deliveries.c.attempts == 1, d.deliveries.c.payload.contains("南万村"))
            .values(attempts=len(d.RETRY_AFTER_S))).rowcount
    return done > 0


async def _subs(http, base, admin, sid: str, enabled: bool):
    items = (await http.get(f"{base}/subscriptions", headers=admin)).json()["items"]
    return next((s for s in items if s["subscription_id"] == sid and s["enabled"] == enabled), None)


async def _kind(http, base, admin, kind: str):
    items = (await http.get(f"{base}/notifications", headers=admin, params={"size": 100})).json()["items"]
    return next((i for i in items if i["kind"] == kind), None)


async def _status(http, base, admin, sid: str, status: str):
    r = await http.get(f"{base}/subscriptions/{sid}/deliveries", headers=admin, params={"delivery_status": status})
    return r.json()["items"]


async def test_robots_are_signed_rate_limited_into_a_digest_and_disabled_on_configuration_errors(
        http, token, receivers):
    code, admin = await new_county_with_townships(http, token, {"qiaogang": "侨港镇"})
    base, rx = f"/api/v1/counties/{code}", receivers
    rx.robot_secret = {"ding": "SECd6b5f3c1e2a4", "fei": "feishu-secret-42"}
    rx.robot_keys = {"wx": "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"}
    rx.keyword = "党建"
    await subscribe(http, base, admin, subscription_id="ding", name="侨港镇党委群", channel="dingtalk",
                    url=f"{rx.url}/dingtalk/ding/robot/send?access_token=abc123", secret=rx.robot_secret["ding"],
                    keyword="党建")
    await subscribe(http, base, admin, subscription_id="wx", name="组织部企业微信群", channel="wecom",
                    url=f"{rx.url}/cgi-bin/webhook/send?key={rx.robot_keys['wx']}")
    await subscribe(http, base, admin, subscription_id="fei", name="飞书群", channel="feishu",
                    url=f"{rx.url}/open-apis/bot/v2/hook/fei", secret=rx.robot_secret["fei"])
    await subscribe(http, base, admin, subscription_id="badkey", name="错的key", channel="wecom",
                    url=f"{rx.url}/cgi-bin/webhook/send?key=wrong")
    listed = (await http.get(f"{base}/subscriptions", headers=admin)).json()["items"]
    assert all("abc123" not in s["url"] for s in listed)  # access tokens are masked when shown

    names = [f"第{i}村党支部" for i in range(25)]
    await asyncio.gather(*(establish(http, code, admin, n) for n in names))

    def covered(robot: str) -> set[str]:
        return {n for g in rx.got[robot] for n in names if n in g.get("text", "")}

    for robot in ("ding", "wx", "fei"):
        await eventually(lambda r=robot: covered(r) == set(names), timeout=45, what=f"{robot} covers all 25")
        assert len(rx.got[robot]) <= 20  # 20 a minute: the rest merged, never dropped
    assert any("汇总" in g["text"] for g in rx.got["ding"])
    assert all("党建" in g["text"] for g in rx.got["ding"])
    badkey = await eventually(lambda: _subs(http, base, admin, "badkey", enabled=False), what="badkey disabled")
    assert "93000" in badkey["disabled_reason"]
