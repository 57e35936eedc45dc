"""The deliverer: sends what notifications.feed queued (services/notifications/deliveries.py) to webhooks
and chat robots, with retries, and records every attempt.

It runs for a county where this instance runs notifications.feed (the lease: exactly one instance
drives a county's deliveries; a standby takes over when it dies, and picks up the pending rows).
Each subscription is drained by its own task, so a slow or dead endpoint delays only itself, and
never the live feed (which does not pass through here). A robot sends at most 20 messages a minute
(钉钉/企业微信's limit): once half of them are used within a minute, what is due is merged into one digest
every few seconds rather than sent one by one — never dropped.
"""
from __future__ import annotations

import asyncio
import contextlib
import time
from concurrent.futures import ThreadPoolExecutor
from collections import defaultdict, deque
from datetime import UTC, datetime

import aiohttp
import orjson
import structlog
import yarl
from sqlalchemy import select

from shared.envelope import Metadata
from shared.errors import DomainError
from shared.messaging import stop_task
from services.notifications import channels, deliveries as d, metrics, secrets
from services.notifications.alerts import alert_disabled, alert_failed
from services.notifications.domain import Subscription
from services.notifications.projections.feed import FeedProjection
from services.notifications.urls import check_url

log = structlog.get_logger(__name__)
SWEEP_S = 1.0
ROBOT_PER_MINUTE = 20  # 钉钉/企业微信: 20 messages a minute per robot
DIGEST_EVERY_S = 6.0   # once half the minute's messages are used, at most one digest this often
URL_CHECK_TTL_S = 60.0
GAUGES_EVERY_S = 5.0  # backlog and disabled subscriptions into the metrics
WEBHOOK_IN_FLIGHT = 8  # one endpoint's due notifications sent concurrently (receivers de-duplicate by id)
RESPONSE_READ = 64 * 1024  # bytes of an answer read (the log keeps 500 characters; robots answer small JSON)
SYSTEM = Metadata(actor="system:notifications")


class Deliverer:
    def __init__(self, service):
        self.service = service
        self.wake = asyncio.Event()
        self.busy: dict[tuple[str, str], asyncio.Task] = {}
        self.sent: dict[tuple[str, str], deque] = defaultdict(deque)  # robot send times, per subscription
        self._checked: dict[str, float] = {}
        self._gauged = 0.0
        self._task: asyncio.Task | None = None
        self._recorder: asyncio.Task | None = None
        self._outcomes: list[tuple[list, dict, asyncio.Future]] = []
        self._recorded = asyncio.Event()
        self.http: aiohttp.ClientSession | None = None
        # its own threads for the database: a hundred subscriptions' rounds must not queue ahead of the
        # issuer and the projections in the default executor (the live feed's path)
        self._pool: ThreadPoolExecutor | None = None

    def start(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="notifications-deliverer")
        # aiohttp rather than httpx: at hundreds of deliveries a second httpx's pool cost most of this
        # process's CPU (decision 015, "Delivery throughput"); keep-alive connections are pooled per host
        self.http = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=10.0, connect=5.0), trust_env=False,
            connector=aiohttp.TCPConnector(limit=500, limit_per_host=0, keepalive_timeout=30.0))
        self._task = asyncio.create_task(self._loop(), name="notifications:deliverer")
        self._recorder = asyncio.create_task(self._record_loop(), name="notifications:delivery-recorder")

    async def stop(self) -> None:
        if self._task:
            await stop_task(self._task)
        for task in list(self.busy.values()):
            await stop_task(task)
        if self._recorder:
            await stop_task(self._recorder)
        if self.http:
            await self.http.close()
        if self._pool:
            self._pool.shutdown(wait=True)

    def poke(self, county: str | None = None) -> None:
        loop = self._task.get_loop() if self._task else None
        if loop is not None:
            loop.call_soon_threadsafe(self.wake.set)

    async def _loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(SWEEP_S):
                    await self.wake.wait()
            self.wake.clear()
            for county in [c for (name, c) in list(self.service.runners) if name == FeedProjection.name]:
                try:
                    await self._dispatch(county)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # the database briefly away: the rows wait
                    log.warning("notifications.dispatch_failed", county=county, error=str(exc))
            if time.monotonic() - self._gauged >= GAUGES_EVERY_S:
                self._gauged = time.monotonic()
                with contextlib.suppress(Exception):  # figures only: the next round
                    await self._db(self._refresh_gauges)

    def _refresh_gauges(self) -> None:
        subs = self.service.projection(FeedProjection).subscriptions
        with self.service.engine.connect() as conn:
            for county in [c for (name, c) in list(self.service.runners) if name == FeedProjection.name]:
                metrics.refresh(conn, county, d.deliveries, subs)

    async def _dispatch(self, county: str) -> None:
        now = datetime.now(UTC)
        busy = frozenset(sid for (c, sid) in self.busy if c == county)
        subs = self.service.projection(FeedProjection).subscriptions
        rows, sub_rows = await self._db(self._read, lambda conn: (d.due(conn, county, now, busy=busy), {
            s.subscription_id: s for s in conn.execute(select(subs).where(subs.c.county == county))}))
        by_sub: dict[str, list] = defaultdict(list)
        for row in rows:
            by_sub[row.subscription_id].append(row)
        for sid, due_rows in by_sub.items():
            key = (county, sid)
            if key not in self.busy:
                task = asyncio.create_task(self._drain(county, sid, sub_rows.get(sid), due_rows),
                                           name=f"deliver:{county}:{sid}")
                self.busy[key] = task
                task.add_done_callback(lambda _t, k=key: (self.busy.pop(k, None), self.wake.set()))

    def _read(self, fn):
        with self.service.engine.connect() as conn:
            return fn(conn)

    def _write(self, fn):
        with self.service.engine.begin() as conn:
            return fn(conn)

    async def _db(self, fn, *args):
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    async def _drain(self, county: str, sid: str, sub, rows: list) -> None:
        """`sub`: the subscription as read with its due rows (None: no longer there)."""
        if sub is None or not sub.enabled or sub.removed:
            await self._db(self._write, lambda conn: d.abandon_subscription(conn, county, sid))
            return
        try:
            await self._url_allowed(sub.url)
        except DomainError as exc:
            await self._send_all(county, sub, rows, {"ok": False, "disable": True, "error": exc.detail})
            return
        if sub.channel == "webhook":
            keys = self._secrets(sub)  # unsealed once per round, not per notification
            for at in range(0, len(rows), WEBHOOK_IN_FLIGHT):
                chunk = rows[at:at + WEBHOOK_IN_FLIGHT]
                outcomes = await asyncio.gather(*(self._webhook(sub, row, keys) for row in chunk))
                if not await self._send_many(county, sub, [([r], o) for r, o in zip(chunk, outcomes)]):
                    return
            return
        window, now = self.sent[(county, sid)], time.monotonic()
        while window and now - window[0] > 60:
            window.popleft()
        singles = max(0, ROBOT_PER_MINUTE // 2 - len(window))
        if len(rows) <= singles:
            batches = [[r] for r in rows]
        elif len(window) < ROBOT_PER_MINUTE and (not window or now - window[-1] >= DIGEST_EVERY_S):
            batches = [rows[:200]]  # busy: what is due goes as one digest
        else:
            return  # they stay due: a later sweep sends them, when the pacing allows
        for batch in batches:
            window.append(time.monotonic())
            if not await self._send_all(county, sub, batch, await self._robot(sub, batch)):
                return

    async def _url_allowed(self, url: str) -> None:
        if time.monotonic() - self._checked.get(url, -1e9) < URL_CHECK_TTL_S:
            return
        await check_url(url, self.service.settings.webhook_allow_private_hosts)
        self._checked[url] = time.monotonic()

    def _secrets(self, sub) -> list[str]:
        directory = self.service.settings.credentials_path
        out = [secrets.unseal(directory, sub.secret_sealed)] if sub.secret_sealed else []
        if sub.previous_secret_sealed and sub.previous_until and \
                datetime.fromisoformat(sub.previous_until) > datetime.now(UTC):
            out.append(secrets.unseal(directory, sub.previous_secret_sealed))
        return out

    async def _webhook(self, sub, row, keys: list[str]) -> dict:
        req = channels.webhook_request(sub.url, row.notification_id, row.payload, keys, time.time())
        return await self._post("webhook", req)

    async def _robot(self, sub, batch: list) -> dict:
        secret = next(iter(self._secrets(sub)), None)
        items = [orjson.loads(r.payload) for r in batch]
        req = channels.robot_request(sub.channel, sub.url, secret, sub.keyword, items, time.time())
        return await self._post(sub.channel, req)

    async def _post(self, channel: str, req: channels.Outgoing) -> dict:
        started = time.perf_counter()
        try:  # the URL as built (a robot's sign is already percent-encoded): not encoded again
            async with self.http.post(yarl.URL(req.url, encoded=True), data=req.body, headers=req.headers,
                                      allow_redirects=False) as resp:
                text = (await resp.content.read(RESPONSE_READ)).decode("utf-8", "replace")
                out = channels.outcome(channel, resp.status, text, resp.headers.get("retry-after"), time.time())
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            out = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
        out["latency_ms"] = int((time.perf_counter() - started) * 1000)
        return out

    async def _record_loop(self) -> None:
        """Attempts of every subscription's task are recorded together, one transaction per round (a
        transaction per delivery would make the database the limit at a few hundred deliveries a second)."""
        while True:
            await self._recorded.wait()
            self._recorded.clear()
            pending, self._outcomes = self._outcomes, []
            now = datetime.now(UTC)
            try:
                flat = await self._db(self._write, lambda conn: d.record_attempts(
                    conn, [(r, outcome) for rows, outcome, _ in pending for r in rows], now))
                statuses, at = [], 0
                for rows, *_ in pending:
                    statuses.append(flat[at:at + len(rows)])
                    at += len(rows)
            except Exception as exc:  # not recorded: the deliveries stay pending and are sent again
                log.warning("notifications.record_failed", deliveries=len(pending), error=str(exc)[:300])
                await asyncio.sleep(1.0)  # not a tight loop of sends while the database refuses
                for *_, done in pending:
                    done.set_exception(exc)
                continue
            for (*_, done), status in zip(pending, statuses):
                done.set_result(status)

    async def _send_all(self, county: str, sub, batch: list, outcome: dict) -> bool:
        """Record the outcome for every delivery in the batch; False when the subscription is disabled."""
        return await self._send_many(county, sub, [(batch, outcome)])

    async def _send_many(self, county: str, sub, sent: list[tuple[list, dict]]) -> bool:
        """Record each (deliveries, outcome) pair, all in the recorder's next round; False when the
        subscription got disabled or asked to wait (Retry-After): the rest of its rows wait then."""
        now, loop = datetime.now(UTC), asyncio.get_running_loop()
        waits = []
        for batch, outcome in sent:
            done = loop.create_future()
            self._outcomes.append((batch, outcome, done))
            waits.append(done)
        self._recorded.set()
        go_on = True
        for (_, outcome), statuses in zip(sent, await asyncio.gather(*waits)):
            metrics.record_attempt(sub.channel, outcome, statuses)
            if outcome.get("disable"):
                await self._disable(county, sub, outcome.get("error") or "disabled")
                return False
            if "failed" in statuses:
                await self._db(self._write, lambda conn: alert_failed(conn, county, sub, now))
                self.service.issuer.poke()
            go_on = go_on and (outcome["ok"] or not outcome.get("retry_after"))
        return go_on

    async def _disable(self, county: str, sub, reason: str) -> None:
        log.warning("notifications.subscription_disabled", county=county, subscription=sub.subscription_id,
                    reason=reason[:200])
        await self.service.repo.execute(county, Subscription, sub.subscription_id, SYSTEM,
                                        lambda s: s.disable(reason))
        now = datetime.now(UTC)
        await self._db(self._write, lambda conn: (d.abandon_subscription(conn, county, sub.subscription_id),
                                                           alert_disabled(conn, county, sub, reason, now)))
        self.service.issuer.poke()
