"""Wiring of the ratings service: its routes and projections (subjects listed in handlers/queries)."""
from shared.service import Service
from services.ratings.handlers import routes
from services.ratings.projections.stars import StarsProjection


def create_service() -> Service:
    return Service(routes, projections=[StarsProjection])
