"""Wiring of the ratings service: its command and query routes and its projection."""
from shared.service import Routes, Service
from services.ratings import audit, bulk, handlers, queries, rollup
from services.ratings.projections.stars import StarsProjection
from services.ratings.standing import StandingProjection


def create_service() -> Service:
    return Service(Routes("ratings").include(handlers.routes, bulk.routes, queries.routes, audit.routes,
                                                   rollup.routes),
                   projections=[StarsProjection, StandingProjection])
