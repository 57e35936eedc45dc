"""Wiring of the notifications service: its commands and queries, its two projections
(notifications.rules decides, notifications.feed keeps what was issued and queues its deliveries), the
issuer that records what the rules decided as events, and the deliverer."""
from __future__ import annotations

from shared.service import Routes, Service
from shared.settings import Settings
from services.notifications import delivery_log, handlers, queries, scheduler
from services.notifications.deliverer import Deliverer
from services.notifications.issuer import Issuer
from services.notifications.projections.feed import FeedProjection
from services.notifications.projections.rules_state import RulesStateProjection

routes = Routes("notifications", writes=("notifications",))
for kind, name, fn, reply in [*handlers.HANDLERS, *queries.HANDLERS, *delivery_log.HANDLERS, *scheduler.HANDLERS]:
    routes.add(kind, name, fn, reply)


class NotificationsService(Service):
    def __init__(self) -> None:
        super().__init__(routes, projections=[RulesStateProjection, FeedProjection])
        self.issuer = Issuer(self)
        self.deliverer = Deliverer(self)
        self.scheduler = scheduler.Scheduler(self)
        self.projection(RulesStateProjection).after_commit = lambda county, events: self.issuer.poke()
        self.projection(FeedProjection).on_commit = self.deliverer.poke

    async def start(self, nats_url: str, settings: Settings) -> None:
        await super().start(nats_url, settings)
        self.issuer.start()
        self.issuer.poke()  # what a previous run decided but did not record
        self.deliverer.start()
        self.scheduler.start()

    async def stop(self) -> None:
        await self.scheduler.stop()
        await self.deliverer.stop()
        await self.issuer.stop()
        await super().stop()


def create_service() -> Service:
    return NotificationsService()
