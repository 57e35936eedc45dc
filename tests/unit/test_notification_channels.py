"""The channels' wire format (pure): Standard Webhooks signatures verified by the `standardwebhooks`
package (several during a rotation), what each answer means, the retry schedule, robot signing and
digests, URLs refused against SSRF."""
from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import random
from urllib.parse import parse_qs, urlsplit

import orjson
import pytest
from standardwebhooks import Webhook

from services.notifications import channels
from services.notifications.deliveries import RETRY_AFTER_S, next_delay
from services.notifications.urls import check_url, masked
from shared.errors import DomainError

OLD, NEW = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
BODY = orjson.dumps({"type": "notification.organization_flagged_weak", "data": {"title": "侨港村党支部被列为软弱涣散党组织"}}).decode()


def test_webhook_requests_verify_with_each_secret_in_force():
    import time
    req = channels.webhook_request("https://example.org/hook", "n123", BODY, [NEW, OLD], time.time())
    assert req.headers["webhook-id"] == "n123" and req.headers["webhook-signature"].count("v1,") == 2
    for secret in (NEW, OLD):
        assert Webhook(secret).verify(req.body, req.headers)["data"]["title"].startswith("侨港村")
    with pytest.raises(Exception):
        Webhook("whsec_" + base64.b64encode(b"x" * 24).decode()).verify(req.body, req.headers)


def test_what_an_answer_means():
    assert channels.outcome("webhook", 204, "", None, 0)["ok"]
    assert channels.outcome("webhook", 410, "", None, 0)["disable"]
    assert channels.outcome("webhook", 429, "", "7", 0)["retry_after"] == 7
    assert channels.outcome("webhook", 503, "", "Wed, 21 Oct 2026 07:28:00 GMT", 0)["retry_after"] > 0
    failed = channels.outcome("webhook", 500, "boom", None, 0)
    assert not failed["ok"] and not failed.get("disable") and failed.get("retry_after") is None
    assert channels.outcome("dingtalk", 200, '{"errcode":0,"errmsg":"ok"}', None, 0)["ok"]
    assert channels.outcome("dingtalk", 200, '{"errcode":310000,"errmsg":"sign not match"}', None, 0)["disable"]
    assert channels.outcome("dingtalk", 200, '{"errcode":130101,"errmsg":"send too fast"}', None, 0)["retry_after"] == 60
    assert channels.outcome("wecom", 200, '{"errcode":93000,"errmsg":"invalid webhook url"}', None, 0)["disable"]
    assert channels.outcome("wecom", 200, '{"errcode":45009,"errmsg":"api freq out of limit"}', None, 0)["retry_after"]
    assert channels.outcome("feishu", 200, '{"code":19021,"msg":"sign match fail"}', None, 0)["disable"]
    assert channels.outcome("feishu", 200, '{"code":0,"msg":"success"}', None, 0)["ok"]


def test_retries_spread_over_more_than_a_day_with_jitter():
    rng = random.Random(7)
    delays = [next_delay(i, rng=rng) for i in range(1, len(RETRY_AFTER_S) + 1)]
    assert sum(delays) > 24 * 3600 and next_delay(len(RETRY_AFTER_S) + 1) is None
    assert all(0.8 * b <= x <= 1.2 * b for x, b in zip(delays, RETRY_AFTER_S)) and delays[0] != RETRY_AFTER_S[0]
    assert next_delay(1, retry_after=30) == 30 and next_delay(1, retry_after=10 ** 9) == 24 * 3600


def test_dingtalk_jiaqian_and_markdown():
    secret, now = "SECd6b5f3c1e2a4", 1_780_000_000.123
    item = {"data": {"title": "侨港村党支部整顿验收销号", "summary": "经验收销号。", "severity": "info",
                     "notification_id": "n1"}}
    req = channels.robot_request("dingtalk", "https://oapi.dingtalk.com/robot/send?access_token=t", secret, "党建",
                                 [item], now)
    query = parse_qs(urlsplit(req.url).query)
    ts = query["timestamp"][0]
    assert ts == str(int(now * 1000))
    expected = base64.b64encode(hmac.new(secret.encode(), f"{ts}\n{secret}".encode(), hashlib.sha256).digest()).decode()
    assert query["sign"][0] == expected  # parse_qs decodes the URL-encoding the robot expects
    body = orjson.loads(req.body)
    assert body["msgtype"] == "markdown" and body["markdown"]["title"] == "侨港村党支部整顿验收销号"
    assert "党建" in body["markdown"]["text"]
    digest = orjson.loads(channels.robot_request("wecom", "https://x/?key=k", None, None, [item, item], now).body)
    assert "汇总（2 条）" in digest["markdown"]["content"]


def test_feishu_signature():
    secret, now = "feishu-secret", 1_780_000_000.0
    body = orjson.loads(channels.robot_request("feishu", "https://open.feishu.cn/open-apis/bot/v2/hook/x", secret,
                                               None, [{"data": {"title": "t", "summary": "s", "severity": "info",
                                                                "notification_id": "n"}}], now).body)
    key = f"{int(now)}\n{secret}".encode()
    assert body["sign"] == base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
    assert body["timestamp"] == str(int(now)) and body["msg_type"] == "text"


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/x", "http://10.1.2.3/x", "http://[::1]/x",
                                 "http://169.254.169.254/latest/meta-data", "ftp://8.8.8.8/x", "http://u:p@8.8.8.8/"])
def test_private_and_odd_urls_are_refused(url):
    with pytest.raises(DomainError) as refused:
        asyncio.run(check_url(url, allow_private=False))
    assert refused.value.status == 422 and refused.value.errors[0].field == "url"


def test_public_and_allowed_loopback_urls_pass_and_tokens_are_masked():
    assert asyncio.run(check_url("https://8.8.8.8/hook", allow_private=False))
    assert asyncio.run(check_url("http://127.0.0.1:9/x", allow_private=True))
    assert masked("https://oapi.dingtalk.com/robot/send?access_token=abc") == \
        "https://oapi.dingtalk.com/robot/send?access_token=***"
