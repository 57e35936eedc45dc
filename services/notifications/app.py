"""Wiring of the notifications service: its commands and queries, its two projections
(notifications.rules decides, notifications.feed keeps what was issued), and the issuer that records
what the rules decided as events."""
from __future__ import annotations

from shared.service import Routes, Service
from shared.settings import Settings
from services.notifications import handlers, queries
from services.notifications.issuer import Issuer
from services.notifications.projections.feed import FeedProjection
from services.notifications.projections.rules_state import RulesStateProjection

routes = Routes("notifications", writes=("notifications",))
for kind, name, fn, reply in [*handlers.HANDLERS, *queries.HANDLERS]:
    routes.add(kind, name, fn, reply)


class NotificationsService(Service):
    def __init__(self) -> None:
        super().__init__(routes, projections=[RulesStateProjection, FeedProjection])
        self.issuer = Issuer(self)
        self.projection(RulesStateProjection).after_commit = lambda county, events: self.issuer.poke()

    async def start(self, nats_url: str, settings: Settings) -> None:
        await super().start(nats_url, settings)
        self.issuer.start()
        self.issuer.poke()  # what a previous run decided but did not record

    async def stop(self) -> None:
        await self.issuer.stop()
        await super().stop()


def create_service() -> Service:
    return NotificationsService()
