"""What goes over the wire to each channel (pure): the request (URL, headers, body) and what an answer
means. No I/O here; the deliverer (services/notifications/deliverer.py) sends and records.

* webhook — Standard Webhooks: `webhook-id` (the notification id, the same on every retry: receivers
  de-duplicate by it), `webhook-timestamp`, `webhook-signature` `v1,<base64 HMAC-SHA256 of id.timestamp.body>`
  signed by the `standardwebhooks` package, one signature per secret in force (rotation). 2xx is
  success; 410 disables the endpoint; 429/503 honour Retry-After; anything else is retried.
* dingtalk — 钉钉自定义机器人 加签: `timestamp` (ms) and `sign` = URL-encoded Base64 of
  HMAC-SHA256(key=secret, msg=timestamp + "\\n" + secret) as query parameters; markdown message;
  `errcode` in the body decides (0 ok; 310000 signature/keyword/IP, 300001 token: configuration errors;
  130101 too fast: back off).
* wecom — 企业微信群机器人: the key is in the URL; markdown message; `errcode` (0 ok; 93000 bad key:
  configuration error; 45009 frequency limit: back off).
* feishu — 飞书自定义机器人 签名校验: `timestamp` (s) and `sign` = Base64 of HMAC-SHA256 with key
  timestamp + "\\n" + secret over an empty message, in the body; `code` (0 ok; 19021 signature,
  19024 keyword: configuration errors; 9499/11232 frequency limit: back off).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote_plus

import orjson
from standardwebhooks import Webhook

CONFIG_ERRORS = {"dingtalk": {310000, 300001, 300005}, "wecom": {93000, 93004}, "feishu": {19021, 19024, 19022}}
THROTTLED = {"dingtalk": {130101}, "wecom": {45009}, "feishu": {9499, 11232}}
THROTTLE_BACKOFF_S = 60.0


@dataclass(frozen=True)
class Outgoing:
    url: str
    headers: dict[str, str]
    body: bytes


def webhook_request(url: str, msg_id: str, body: str, secrets: list[str], now: float) -> Outgoing:
    stamp = int(now)
    signatures = " ".join(Webhook(s).sign(msg_id, datetime.fromtimestamp(stamp, UTC), body) for s in secrets)
    return Outgoing(url, {"content-type": "application/json", "webhook-id": msg_id,
                          "webhook-timestamp": str(stamp), "webhook-signature": signatures}, body.encode())


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest))


def feishu_sign(secret: str, timestamp_s: int) -> str:
    digest = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def markdown(items: list[dict], keyword: str | None) -> tuple[str, str]:
    """(title, markdown text) of one notification, or a digest of several (rate limit)."""
    if len(items) == 1:
        n = items[0]["data"]
        title = n["title"]
        text = f"### {n['title']}\n\n{n['summary']}\n\n> 级别：{n['severity']}　编号：{n['notification_id']}"
    else:
        title = f"党建通知汇总（{len(items)} 条）"
        lines = [f"- **{i['data']['title']}**（{i['data']['severity']}）" for i in items]
        text = f"### {title}\n\n" + "\n".join(lines)
    if keyword and keyword not in text:
        text += f"\n\n{keyword}"
    return title, text


def robot_request(channel: str, url: str, secret: str | None, keyword: str | None, items: list[dict],
                  now: float) -> Outgoing:
    title, text = markdown(items, keyword)
    headers = {"content-type": "application/json"}
    if channel == "dingtalk":
        if secret:
            ms = int(now * 1000)
            url = f"{url}{'&' if '?' in url else '?'}timestamp={ms}&sign={dingtalk_sign(secret, ms)}"
        body: dict[str, Any] = {"msgtype": "markdown", "markdown": {"title": title, "text": text}}
    elif channel == "wecom":
        body = {"msgtype": "markdown", "markdown": {"content": text}}
    elif channel == "feishu":
        body = {"msg_type": "text", "content": {"text": f"{title}\n{text}"}}
        if secret:
            body |= {"timestamp": str(int(now)), "sign": feishu_sign(secret, int(now))}
    else:
        raise ValueError(f"not a robot channel: {channel}")
    return Outgoing(url, headers, orjson.dumps(body))


def retry_after(value: str | None, now: float) -> float | None:
    """A Retry-After header: seconds, or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - now)
        except (TypeError, ValueError):
            return None


def outcome(channel: str, status: int, text: str, retry_header: str | None, now: float) -> dict[str, Any]:
    """What an HTTP answer means: ok, retry (maybe after), or disable (and why)."""
    out: dict[str, Any] = {"status": status, "response": text, "ok": False}
    if channel == "webhook":
        if 200 <= status < 300:
            out["ok"] = True
        elif status == 410:
            out.update(disable=True, error="410 Gone: the endpoint asked to be removed")
        elif status in (429, 503):
            out.update(retry_after=retry_after(retry_header, now), error=f"HTTP {status}")
        else:
            out["error"] = f"HTTP {status}"
        return out
    if status in (429, 503):
        out.update(retry_after=retry_after(retry_header, now) or THROTTLE_BACKOFF_S, error=f"HTTP {status}")
        return out
    if not 200 <= status < 300:
        out["error"] = f"HTTP {status}"
        return out
    try:
        answer = orjson.loads(text)
        code = answer.get("errcode", answer.get("code", answer.get("StatusCode")))
    except (orjson.JSONDecodeError, AttributeError):
        out["error"] = "robot answered something that is not JSON"
        return out
    if code == 0:
        out["ok"] = True
    elif code in CONFIG_ERRORS[channel]:
        out.update(disable=True, error=f"configuration error {code}: {answer.get('errmsg') or answer.get('msg')}")
    elif code in THROTTLED[channel]:
        out.update(retry_after=THROTTLE_BACKOFF_S, error=f"throttled ({code})")
    else:
        out["error"] = f"robot error {code}: {answer.get('errmsg') or answer.get('msg')}"
    return out
