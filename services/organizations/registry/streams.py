"""A county's event stream is created by the add_county command, before its first event; then every
instance of every service is told (COUNTY_ADDED, core NATS) to attach its projections for it."""
from __future__ import annotations

from shared.messaging import COUNTY_ADDED
from shared.service import Service


async def open_county_stream(service: Service, county: str) -> None:
    await service.store.add_county_stream(county)


async def announce_county(service: Service, county: str) -> None:
    await service.nc.publish(COUNTY_ADDED, county.encode())
