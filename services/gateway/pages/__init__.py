"""The county workbench: server-rendered pages (Jinja2 templates in services/gateway/templates, small
vanilla JS and vendored ECharts in static/), zh-CN first with English. Pages call the services with
the signed-in person's own token, exactly as the API does, so the same scope applies."""
from fastapi import APIRouter

from services.gateway.pages import (accounts, audit, coverage, enterprises, imports, login, notifications, overview,
                                    ratings, rectification)

router = APIRouter(include_in_schema=False)
for module in (login, overview, ratings, coverage, enterprises, rectification, accounts, imports, audit,
               notifications):
    router.include_router(module.router)
