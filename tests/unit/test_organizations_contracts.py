"""Both edges of the organizations service are typed: every subject's AsyncAPI payload is a model
with properties (not an untyped object), every handler declares its payload and reply models, and
every 2xx of the gateway's organizations, lifecycle, rules, campaigns, 两新组织 and coverage
operations has a response schema in /openapi.json."""
from __future__ import annotations

import json

from fastapi.routing import APIRoute
from pydantic import BaseModel
from typer.testing import CliRunner

from services.cli import app as cli
from services.gateway.app import create_app
from services.gateway.routes import campaigns, coverage, enterprises, organizations
from services.organizations.app import CONTEXTS, routes
from shared.settings import Settings


def resolve(doc: dict, ref: str) -> dict:
    return doc["components"]["schemas"][ref.rsplit("/", 1)[1].replace("%5B", "[").replace("%5D", "]")
                                        .replace("%2C", ",").replace("%20", " ")]


def test_every_organizations_subject_has_a_payload_with_properties():
    result = CliRunner().invoke(cli, ["asyncapi"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    channels = {c["address"]: key for key, c in doc["channels"].items() if ".organizations." in c["address"]}
    names = {f"pb.*.{kind}.organizations.{name}" for context in CONTEXTS for kind, name, _, _ in context.HANDLERS}
    assert names <= set(channels) and len(names) >= 49
    for address in names:
        message = doc["components"]["messages"][f"{channels[address]}:SubscribeMessage"]
        request = resolve(doc, message["payload"]["$ref"])
        payload = resolve(doc, request["properties"]["data"]["$ref"])
        assert "properties" in payload, address
        if ".cmd." in address:
            assert payload["properties"], address  # a command always says what it wants
        else:
            assert payload["properties"] or payload.get("additionalProperties") is False, address
    record = resolve(doc, resolve(doc, doc["components"]["messages"][
        f"{channels['pb.*.cmd.organizations.flag_organization_weak']}:SubscribeMessage"]["payload"]["$ref"])
        ["properties"]["data"]["$ref"])
    assert {"organization_id", "campaign", "reasons", "decided_on"} <= set(record["properties"])


def test_every_handler_declares_its_payload_and_reply_models():
    declared = {(r.kind, r.name): r for r in routes._routes}
    for context in CONTEXTS:
        for kind, name, handler, reply in context.HANDLERS:
            route = declared[(kind, name)]
            assert route.fn is handler and handler.__name__ == f"on_{name}", name
            assert handler.__qualname__ == handler.__name__, f"{name}: a module-level function, not a closure"
            assert isinstance(route.payload, type) and issubclass(route.payload, BaseModel), name
            assert isinstance(reply, type) and issubclass(reply, BaseModel) and reply.model_fields, name


def test_every_success_of_the_organizations_operations_has_a_response_schema(tmp_path):
    spec = create_app(Settings(jwt_secret="x" * 40, data_dir=tmp_path), "", client=object()).openapi()
    operations = [(route.path, method.lower()) for module in (organizations, campaigns, enterprises, coverage)
                  for route in module.router.routes if isinstance(route, APIRoute) for method in route.methods]
    assert len(operations) >= 49
    for path, method in operations:
        responses = spec["paths"][path][method]["responses"]
        successes = {status: r for status, r in responses.items() if status.startswith("2")}
        assert successes, (method, path)
        for status, response in successes.items():
            schemas = [c.get("schema") for c in response.get("content", {}).values()]
            assert schemas and all(schemas), (method, path, status)
            assert all(s.get("$ref") or s.get("format") == "binary" for s in schemas), (method, path, status)
        for status in ("401", "403", "422"):
            assert "application/problem+json" in responses[status]["content"], (method, path, status)
