"""Subjects of the rollups (answered to tokens covering the county, shared/routes.py `province`)."""
from services.organizations.rollups import queries

HANDLERS = (  # (kind, name, handler, reply): pb.<county>.qry.organizations.<name>; counties on pb.platform
    ("qry", "rollup_counties", queries.on_rollup_counties, queries.CountyList),
    ("qry", "county_rollup", queries.on_county_rollup, queries.OrganizationsRollup),
)
