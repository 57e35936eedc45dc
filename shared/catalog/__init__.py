"""The event catalog: one Pydantic class per event type, all services' events in one place.

The catalog is the published language between services (ratings folds organizations' member
events into its directory), so it lives in shared/ while the rules that emit events stay in each
service's domain module.
"""
from shared.catalog.base import CATALOG, DomainEvent, decode_event, event_class
from shared.catalog import (accounts, campaigns, centres, development, enterprises, lifecycle,  # noqa: F401
                            membership, mobile, organizations, posts, ratings, rooms, rules)  # (registers the event classes)

__all__ = ["CATALOG", "DomainEvent", "decode_event", "event_class"]
