"""The issuer: records each notification the rules decided (the outbox of notifications.rules) as a
NotificationIssued event, then removes it from the outbox.

Each notification is the only event of its own subject and is appended with "the subject must be empty"
(Nats-Expected-Last-Subject-Sequence: 0). A notification recorded before a crash, by another instance,
or decided again after a rebuild is refused by the server as a conflict: it counts as issued, once.
It runs for a county where this instance runs the notifications.rules projection (its lease), woken
by every committed batch and every few seconds for leftovers.
"""
from __future__ import annotations

import asyncio
import contextlib
from datetime import date

import orjson
import structlog
from sqlalchemy import delete, select

from shared.catalog.notifications import NotificationIssued
from shared.envelope import Metadata, seal, subject_for
from shared.eventstore import ConcurrencyConflict
from shared.messaging import stop_task
from services.notifications.projections.rules_state import RulesStateProjection, outbox

log = structlog.get_logger(__name__)
SWEEP_S = 2.0
BATCH = 500


class Issuer:
    def __init__(self, service):
        self.service = service
        self.wake = asyncio.Event()
        self.issued = 0
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="notifications:issuer")

    async def stop(self) -> None:
        if self._task:
            await stop_task(self._task)

    def poke(self) -> None:
        """Called from the projection's commit (any thread)."""
        loop = self._task.get_loop() if self._task else None
        if loop is not None:
            loop.call_soon_threadsafe(self.wake.set)

    def _counties(self) -> list[str]:
        return [county for (name, county) in list(self.service.runners) if name == RulesStateProjection.name]

    async def _loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(SWEEP_S):
                    await self.wake.wait()
            self.wake.clear()
            for county in self._counties():
                try:
                    while await self.issue_pending(county) == BATCH:
                        pass
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # NATS or the database briefly away: the outbox keeps them
                    log.warning("notifications.issue_failed", county=county, error=str(exc))

    async def issue_pending(self, county: str) -> int:
        rows = await asyncio.to_thread(self._pending, county)
        if not rows:
            return 0
        done = await asyncio.gather(*(self._issue(county, r) for r in rows), return_exceptions=True)
        issued = [r.notification_id for r, ok in zip(rows, done) if ok is True]
        for failure in (d for d in done if isinstance(d, BaseException)):
            log.warning("notifications.issue_retry", county=county, error=str(failure))
        if issued:
            await asyncio.to_thread(self._remove, county, issued)
        return len(rows)

    def _pending(self, county: str) -> list:
        with self.service.engine.connect() as conn:
            return list(conn.execute(select(outbox).where(outbox.c.county == county)
                                     .order_by(outbox.c.decided_at).limit(BATCH)))

    def _remove(self, county: str, ids: list[str]) -> None:
        with self.service.engine.begin() as conn:
            conn.execute(delete(outbox).where(outbox.c.county == county, outbox.c.notification_id.in_(ids)))

    async def _issue(self, county: str, row) -> bool:
        payload = orjson.loads(row.payload)
        payload["occurred_on"] = date.fromisoformat(payload["occurred_on"])
        event = NotificationIssued.model_validate(payload)
        meta = Metadata(actor="system:notifications", correlation_id=row.causation_id or event.notification_id,
                        causation_id=row.causation_id)
        env = seal(county, event.notification_id, event, meta, None, signer=self.service.repo.signer)
        subject = subject_for(county, "notifications", "notification", event.notification_id)
        try:
            await self.service.store.append(county, subject, [env], 0)
            self.issued += 1
        except ConcurrencyConflict:
            pass  # recorded before (a restart, another instance, a rebuild): issued once
        return True
