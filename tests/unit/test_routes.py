"""Routes (shared/routes.py): a handler's second parameter is its payload model; a service whose handlers
live in several modules joins their Routes, and a subject declared twice is refused at import time."""
from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from shared.messaging import Request
from shared.routes import Context, Routes


class Flag(BaseModel):
    organization_id: str


async def on_flag(ctx: Context, cmd: Flag) -> dict:
    return {}


async def on_plain(ctx: Context) -> dict:
    return {}


def test_the_payload_model_comes_from_the_second_parameter():
    routes = Routes("organizations")
    routes.command("flag", reply=Flag)(on_flag)
    routes.query("plain")(on_plain)
    flag, plain = routes.routes
    assert (flag.payload, flag.reply, flag.request_model) == (Flag, Flag, Request[Flag])
    assert plain.payload is None and plain.request_model is Request[dict[str, Any]]


def test_a_payload_that_is_not_a_model_is_refused():
    async def on_bad(ctx: Context, cmd: dict) -> dict:
        return {}
    with pytest.raises(TypeError, match="needs a Pydantic model"):
        Routes("x").command("bad")(on_bad)


def test_routes_of_several_modules_join_into_one_service():
    registry, campaigns = Routes("organizations", writes=("org",)), Routes("organizations", writes=("org",))
    registry.command("flag")(on_flag)
    campaigns.query("plain")(on_plain)
    campaigns.reaction("org.member.*")(on_plain)
    joined = Routes("organizations").include(registry, campaigns)
    assert [(r.kind, r.name) for r in joined.routes] == [("cmd", "flag"), ("qry", "plain")]
    assert joined.writes == ("org",) and len(joined.reactions) == 1


def test_a_subject_declared_twice_or_another_services_routes_are_refused():
    one, two = Routes("organizations"), Routes("organizations")
    one.command("flag")(on_flag)
    two.command("flag")(on_flag)
    with pytest.raises(ValueError, match="declared twice"):
        Routes("organizations").include(one, two)
    with pytest.raises(ValueError, match="declared twice"):
        one.add("cmd", "flag", on_flag)
    with pytest.raises(ValueError, match="cannot join"):
        Routes("ratings").include(one)
