"""Notifications → the notifications service: the live feed (SSE), the inbox, subscriptions and the
county's notification rules. The SSE stream is served from the gateway's in-process fan-out
(services/gateway/live.py); the backlog a reconnecting client missed comes from the service's feed."""
from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Request
from sse_starlette import EventSourceResponse, ServerSentEvent

from services.gateway import bodies
from services.gateway.edge import Edge, ReadEdge, WriteEdge, written
from services.gateway.live import LiveItem, sse_event
from services.gateway.problems import PROBLEM_RESPONSES, problems
from services.notifications import commands as nc
from services.notifications import delivery_log as dl
from services.notifications import scheduler as sch
from shared.errors import DomainError

SERVICE = "notifications"
router = APIRouter(prefix="/api/v1/counties/{county}", tags=["notifications"], responses=PROBLEM_RESPONSES)
SubscriptionPath = Annotated[str, Path(pattern=nc.ID, description="订阅编号 / subscription id")]

SubscriptionChange = bodies.without(nc.ChangeSubscription, "SubscriptionChange", {"subscription_id"})
SecretRotation = bodies.without(nc.RotateSecret, "SecretRotation", {"subscription_id"})
Replay = bodies.without(dl.ReplayDeliveries, "Replay", {"subscription_id"})
SSE_RESPONSE = {200: {"description": "text/event-stream: `id` = stream position, `event: notification`, "
                                     "`data` = the notification as JSON; heartbeat comments keep it open",
                      "content": {"text/event-stream": {"schema": nc.Notification.model_json_schema()}}}}


@router.get("/notifications", summary="收件箱 / inbox: notifications in your scope, newest first",
            response_model=nc.Inbox)
async def inbox(edge: ReadEdge, page: Annotated[int, Query(ge=1, le=100_000)] = 1,
                size: Annotated[int, Query(ge=1, le=100)] = 20, unread_only: bool = False) -> Any:
    return await edge.read(SERVICE, "inbox", {"page": page, "size": size, "unread_only": unread_only})


@router.post("/notifications/read", summary="标为已读 / mark notifications read", response_model=written(nc.MarkedRead),
             responses=problems(404))
async def mark_read(body: nc.MarkRead, edge: WriteEdge) -> dict[str, Any]:
    return await edge.write(SERVICE, "mark_read", bodies.command(nc.MarkRead, body.model_dump()))


@router.get("/notifications/stream", summary="实时通知（SSE） / live feed: Server-Sent Events",
            response_class=EventSourceResponse, responses=SSE_RESPONSE)
async def stream(request: Request, edge: ReadEdge,
                 last_event_id: Annotated[int | None, Header(alias="Last-Event-ID", ge=0,
                                                             description="resume after this stream position")] = None,
                 after: Annotated[int | None, Query(ge=0, description="the same as Last-Event-ID")] = None,
                 live: Annotated[bool, Query(description="false: send what came after `after` (default 0), then "
                                                         "close — a catch-up without staying connected")] = True):
    feed = request.app.state.live
    if feed is None:
        raise DomainError("service_unavailable", "实时通知不可用 / the live feed is not available here", 503)
    resume = last_event_id if last_event_id is not None else after
    if not live:
        return EventSourceResponse(_replay(await _backlog(edge, resume or 0, None)), headers={"X-Accel-Buffering": "no"})
    client, start_seq = await feed.join(edge.county, edge.actor)
    try:
        backlog = await _backlog(edge, resume, start_seq) if resume is not None else []
    except BaseException:
        feed.leave(edge.county, client)
        raise
    return EventSourceResponse(_events(request, edge.county, client, backlog), ping=request.app.state.sse_ping_s,
                               headers={"X-Accel-Buffering": "no"})


async def _backlog(edge: Edge, after_seq: int, upto: int | None) -> list[dict]:
    """What the client missed up to `upto` (the live part's start; None: all there is), from the feed."""
    out: list[dict] = []
    while upto is None or after_seq < upto:
        reply = await edge.client.query(edge.county, SERVICE, "feed", edge.actor,
                                        {"after_seq": after_seq, "limit": 1000}, min_seq=upto)
        items = [i for i in reply.data["items"] if upto is None or i["seq"] <= upto]
        out += items
        if len(reply.data["items"]) < 1000 or not items:
            break
        after_seq = items[-1]["seq"]
    return out


def _event(item: dict) -> ServerSentEvent | bytes:
    return item.wire if isinstance(item, LiveItem) and item.wire else sse_event(item)


async def _replay(backlog: list[dict]) -> AsyncIterator[ServerSentEvent]:
    for item in backlog:
        yield _event(item)


async def _events(request: Request, county: str, client, backlog: list[dict]) -> AsyncIterator[ServerSentEvent]:
    live = request.app.state.live
    sent = 0
    try:
        for item in backlog:
            sent = item["seq"]
            yield _event(item)
        while not client.overflowed:
            seq, item = await client.queue.get()
            if seq > sent:
                sent = seq
                yield _event(item)
    finally:
        live.leave(county, client)


@router.get("/subscriptions", summary="通知订阅 / subscriptions in your scope", response_model=nc.SubscriptionList)
async def subscriptions(edge: ReadEdge) -> Any:
    return await edge.read(SERVICE, "subscriptions", {})


@router.post("/subscriptions", status_code=201, response_model=written(nc.SubscriptionSaved), responses=problems(409),
             summary="订阅通知 / subscribe a webhook or a DingTalk / WeCom / Feishu robot")
async def create_subscription(body: nc.CreateSubscription, edge: WriteEdge) -> dict[str, Any]:
    return await edge.write(SERVICE, "create_subscription",
                            bodies.command(nc.CreateSubscription, body.model_dump(exclude_unset=True)))


@router.patch("/subscriptions/{subscription_id}", summary="修改订阅 / change or re-enable a subscription",
              response_model=written(nc.SubscriptionSaved), responses=problems(404))
async def change_subscription(body: SubscriptionChange, edge: WriteEdge, subscription_id: SubscriptionPath) -> dict:
    data = bodies.command(nc.ChangeSubscription, {**body.model_dump(exclude_unset=True), "subscription_id": subscription_id},
                          {"subscription_id": "path.subscription_id"})
    return await edge.write(SERVICE, "change_subscription", data)


@router.post("/subscriptions/{subscription_id}/secret-rotation", response_model=written(nc.SubscriptionSaved),
             summary="轮换签名密钥 / rotate the signing secret", responses=problems(404))
async def rotate_secret(body: SecretRotation, edge: WriteEdge, subscription_id: SubscriptionPath) -> dict:
    data = bodies.command(nc.RotateSecret, {**body.model_dump(exclude_unset=True), "subscription_id": subscription_id},
                          {"subscription_id": "path.subscription_id"})
    return await edge.write(SERVICE, "rotate_secret", data)


@router.delete("/subscriptions/{subscription_id}", summary="删除订阅 / remove a subscription",
               response_model=written(nc.SubscriptionSaved), responses=problems(404))
async def remove_subscription(edge: WriteEdge, subscription_id: SubscriptionPath) -> dict:
    return await edge.write(SERVICE, "remove_subscription", {"subscription_id": subscription_id})


@router.get("/subscriptions/{subscription_id}/deliveries", response_model=dl.DeliveryLog, responses=problems(404),
            summary="投递记录 / delivery log: every attempt's status, latency and truncated response")
async def delivery_log(edge: ReadEdge, subscription_id: SubscriptionPath, delivery_status: dl.Status | None = None,
                       page: Annotated[int, Query(ge=1, le=100_000)] = 1,
                       size: Annotated[int, Query(ge=1, le=100)] = 20) -> Any:
    return await edge.read(SERVICE, "delivery_log", {"subscription_id": subscription_id, "status": delivery_status,
                                                     "page": page, "size": size})


@router.post("/subscriptions/{subscription_id}/replay", response_model=written(dl.Replayed), responses=problems(404),
             summary="重新投递 / send failed deliveries (or everything from a stream position) again")
async def replay_deliveries(body: Replay, edge: WriteEdge, subscription_id: SubscriptionPath) -> dict:
    data = bodies.command(dl.ReplayDeliveries, {**body.model_dump(exclude_unset=True), "subscription_id": subscription_id},
                          {"subscription_id": "path.subscription_id"})
    return await edge.write(SERVICE, "replay_deliveries", data)


@router.put("/notification-rules", summary="通知规则设置（自生效日起） / the county's notification rules",
            response_model=written(nc.RulesAdopted))
async def adopt_notification_rules(body: nc.AdoptNotificationRules, edge: WriteEdge) -> dict:
    return await edge.write(SERVICE, "adopt_rules", bodies.command(nc.AdoptNotificationRules, body.model_dump(mode="json")))


@router.post("/notification-rules/run", response_model=written(sch.ConditionsRun),
             summary="立即评估按时规则 / evaluate the reminders and overdue rules now (they also run daily)")
async def run_conditions(body: sch.RunConditions, edge: WriteEdge) -> dict:
    return await edge.write(SERVICE, "run_conditions", bodies.command(sch.RunConditions, body.model_dump(mode="json")))
