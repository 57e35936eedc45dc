"""The organizations contexts' handler maps: every handler is a module-level on_<name> function with a
payload and a reply model (every service's subjects and every /api/v1 operation are checked for typed
payloads, replies and response schemas by tests/unit/test_asyncapi.py and test_openapi_contract.py)."""
from __future__ import annotations

import json

from pydantic import BaseModel
from typer.testing import CliRunner

from services.cli import app as cli
from services.organizations.app import CONTEXTS, routes


def resolve(doc: dict, ref: str) -> dict:
    return doc["components"]["schemas"][ref.rsplit("/", 1)[1].replace("%5B", "[").replace("%5D", "]")
                                        .replace("%2C", ",").replace("%20", " ")]


def test_flag_organization_weak_documents_its_fields():
    result = CliRunner().invoke(cli, ["asyncapi"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    channels = {c["address"]: key for key, c in doc["channels"].items()
                if ".organizations." in c["address"] and not key.endswith(":reply")}
    names = {f"pb.*.{kind}.organizations.{name}" for context in CONTEXTS for kind, name, _, _ in context.HANDLERS}
    assert names <= set(channels) and len(names) >= 49
    record = resolve(doc, resolve(doc, doc["components"]["messages"][
        f"{channels['pb.*.cmd.organizations.flag_organization_weak']}:SubscribeMessage"]["payload"]["$ref"])
        ["properties"]["data"]["$ref"])
    assert {"organization_id", "campaign", "reasons", "decided_on"} <= set(record["properties"])


def test_every_handler_declares_its_payload_and_reply_models():
    declared = {(r.kind, r.name): r for r in routes.routes}
    for context in CONTEXTS:
        for kind, name, handler, reply in context.HANDLERS:
            route = declared[(kind, name)]
            assert route.fn is handler and handler.__name__ == f"on_{name}", name
            assert handler.__qualname__ == handler.__name__, f"{name}: a module-level function, not a closure"
            assert isinstance(route.payload, type) and issubclass(route.payload, BaseModel), name
            assert isinstance(reply, type) and issubclass(reply, BaseModel) and reply.model_fields, name
