"""Real receivers on loopback for the notification tests, started by the tests: a Standard Webhooks
endpoint that verifies signatures and answers 500/429/410 on demand, and stand-ins for the DingTalk,
WeCom and Feishu robots that check signing and body as those services document them."""
from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import time
from collections import defaultdict, deque
from urllib.parse import parse_qsl, quote_plus

import orjson
import uvicorn
from standardwebhooks import Webhook, WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from shared.natsserver import free_port


class Receivers:
    def __init__(self):
        self.secrets: dict[str, list[str]] = {}            # webhook endpoint -> secrets it accepts
        self.plan: dict[str, deque] = defaultdict(deque)   # endpoint -> statuses to answer next (then 200)
        self.refuse_titles: dict[str, set[str]] = defaultdict(set)  # endpoint -> 500 for titles containing these
        self.got: dict[str, list[dict]] = defaultdict(list)
        self.refused: list[str] = []
        self.robot_secret: dict[str, str] = {}             # robot name -> its signing secret
        self.robot_keys: dict[str, str] = {}               # wecom: the key in the URL
        self.keyword: str | None = None
        self.delay = 0.0                                    # seconds each webhook answer takes
        self.url = ""
        self._server = self._task = None

    # -- a Standard Webhooks endpoint ----------------------------------------------------------------
    async def hook(self, request: Request) -> Response:
        name, body = request.path_params["name"], await request.body()
        headers = dict(request.headers)
        if not any(self._verifies(s, body, headers) for s in self.secrets.get(name, [])):
            self.refused.append(name)
            return Response(status_code=400)
        if self.delay:
            await asyncio.sleep(self.delay)
        title = orjson.loads(body)["data"]["title"]
        if any(part in title for part in self.refuse_titles[name]):
            return Response("nope", status_code=500)
        plan = self.plan[name].popleft() if self.plan[name] else 200
        status, retry = plan if isinstance(plan, tuple) else (plan, None)
        if 200 <= status < 300:
            self.got[name].append({"id": headers["webhook-id"], "body": orjson.loads(body),
                                   "signatures": headers["webhook-signature"]})
        return Response("ok" if status < 300 else "nope", status_code=status,
                        headers={"Retry-After": str(retry)} if retry is not None else None)

    @staticmethod
    def _verifies(secret: str, body: bytes, headers: dict) -> bool:
        try:
            Webhook(secret).verify(body, headers)
            return True
        except WebhookVerificationError:
            return False

    # -- 钉钉 custom robot: access_token, 加签 timestamp + sign in the query, markdown -------------------
    async def dingtalk(self, request: Request) -> Response:
        name = request.path_params["name"]
        raw = dict(parse_qsl(request.url.query, keep_blank_values=True))  # decoded values
        encoded = dict(p.split("=", 1) for p in request.url.query.split("&"))  # as sent
        secret, ts = self.robot_secret[name], raw.get("timestamp", "0")
        expected = base64.b64encode(hmac.new(secret.encode(), f"{ts}\n{secret}".encode(), hashlib.sha256).digest())
        if encoded.get("sign") != quote_plus(expected) or abs(time.time() * 1000 - int(ts)) > 3600_000:
            return JSONResponse({"errcode": 310000, "errmsg": "sign not match"})
        body = orjson.loads(await request.body())
        md = body.get("markdown") or {}
        if body.get("msgtype") != "markdown" or not md.get("title") or not md.get("text"):
            return JSONResponse({"errcode": 40035, "errmsg": "缺少参数 json"})
        if self.keyword and self.keyword not in md["text"]:
            return JSONResponse({"errcode": 310000, "errmsg": "keywords not in content"})
        self.got[name].append({"title": md["title"], "text": md["text"]})
        return JSONResponse({"errcode": 0, "errmsg": "ok"})

    # -- 企业微信 group robot: key in the URL, markdown ----------------------------------------------------
    async def wecom(self, request: Request) -> Response:
        key = request.query_params.get("key")
        name = next((n for n, k in self.robot_keys.items() if k == key), None)
        if name is None:
            return JSONResponse({"errcode": 93000, "errmsg": "invalid webhook url"})
        body = orjson.loads(await request.body())
        if body.get("msgtype") != "markdown" or not (body.get("markdown") or {}).get("content"):
            return JSONResponse({"errcode": 40008, "errmsg": "invalid message type"})
        self.got[name].append({"text": body["markdown"]["content"]})
        return JSONResponse({"errcode": 0, "errmsg": "ok"})

    # -- 飞书 custom bot: timestamp + sign in the body (HMAC key = timestamp\nsecret, empty message) ------
    async def feishu(self, request: Request) -> Response:
        name = request.path_params["name"]
        body = orjson.loads(await request.body())
        secret, ts = self.robot_secret[name], str(body.get("timestamp", "0"))
        expected = base64.b64encode(hmac.new(f"{ts}\n{secret}".encode(), b"", hashlib.sha256).digest()).decode()
        if body.get("sign") != expected or abs(time.time() - int(ts)) > 3600:
            return JSONResponse({"code": 19021, "msg": "sign match fail or timestamp is not within one hour"})
        if body.get("msg_type") != "text" or not (body.get("content") or {}).get("text"):
            return JSONResponse({"code": 9499, "msg": "Bad Request"})
        self.got[name].append({"text": body["content"]["text"]})
        return JSONResponse({"code": 0, "msg": "success", "data": {}})

    # -- lifecycle -------------------------------------------------------------------------------------
    async def start(self) -> "Receivers":
        app = Starlette(routes=[Route("/hook/{name}", self.hook, methods=["POST"]),
                                Route("/dingtalk/{name}/robot/send", self.dingtalk, methods=["POST"]),
                                Route("/cgi-bin/webhook/send", self.wecom, methods=["POST"]),
                                Route("/open-apis/bot/v2/hook/{name}", self.feishu, methods=["POST"])])
        port = free_port()
        self._server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                                     lifespan="off"))
        self._server.install_signal_handlers = lambda: None
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            await asyncio.sleep(0.02)
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        self._server.should_exit = True
        await self._task

    def ids(self, name: str) -> set[str]:
        return {g["id"] for g in self.got[name]}
