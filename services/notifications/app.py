"""Wiring of the notifications service.

Rules, subscriptions and delivery channels come with the notification issue; until then the
service runs in the topology, answers health, and owns the notifications subjects."""
from shared.service import Routes, Service

routes = Routes("notifications")


def create_service() -> Service:
    return Service(routes)
