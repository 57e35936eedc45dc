"""Wiring of the organizations service: its routes and projections."""
from shared.service import Service
from services.organizations.handlers import routes
from services.organizations.projections.campaigns import CampaignsProjection
from services.organizations.projections.coverage import CoverageProjection
from services.organizations.projections.registry import RegistryProjection


def create_service() -> Service:
    return Service(routes, projections=[RegistryProjection, CoverageProjection, CampaignsProjection])
