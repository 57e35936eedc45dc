"""The AsyncAPI document lists every subject the services answer, generated from the code, with each
subject's payload and its reply typed (`dangjian asyncapi`)."""
from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from services.cli import app
from services.launcher import SERVICE_NAMES, create_service

# services whose every command and query is typed (payload model and reply model); organizations joins
# when its restructuring is merged
TYPED_SERVICES = ("organizations", "ratings", "notifications")


@pytest.fixture(scope="module")
def doc() -> dict:
    result = CliRunner().invoke(app, ["asyncapi"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def resolve(doc: dict, schema: dict) -> dict:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1].replace("%5B", "[").replace("%5D", "]")
        schema = doc["components"]["schemas"][name]
    return schema


def payload(doc: dict, channel: str) -> dict:
    """The message schema of a channel (its one message)."""
    [message] = doc["channels"][channel]["messages"].values()
    name = message["$ref"].rsplit("/", 1)[1]
    return resolve(doc, doc["components"]["messages"][name]["payload"])


def typed(doc: dict, schema: dict) -> dict:
    """The properties of an object schema ({} when it is an untyped object), through $ref and `X | None`."""
    schema = resolve(doc, schema)
    options = [resolve(doc, s) for s in schema.get("anyOf", [schema]) if s.get("type") != "null"]
    return options[0].get("properties", {}) if len(options) == 1 else {}


def test_asyncapi_lists_every_command_and_query_subject(doc):
    addresses = {c["address"] for c in doc["channels"].values()}
    for name in SERVICE_NAMES:
        assert set(create_service(name).subjects) <= addresses
    assert "pb.*.cmd.ratings.record_score" in addresses
    assert doc["channels"]["ratings.cmd.record_score"]["description"].startswith("动态评星")


@pytest.mark.parametrize("service", TYPED_SERVICES)
def test_every_subject_documents_its_payload_and_its_reply(doc, service):
    """Each command and query (the harness's rebuild included) has a payload model with properties and a
    reply channel "<subject>:reply" whose `data` is a model with properties."""
    routes = create_service(service).routes
    assert any(r.name == "rebuild" for r in routes)
    for route in routes:
        channel = f"{service}.{route.kind}.{route.name}"
        request = payload(doc, channel)
        # public subjects (sign-in) carry no token: the password in the payload proves who asks
        expected = {"data", "correlation_id"} if route.public else {"token", "data", "min_seq"}
        assert set(request["properties"]) >= expected, channel
        assert route.public == ("token" not in request["properties"]), channel
        data = resolve(doc, request["properties"]["data"])
        parameterless = route.kind == "qry" and data.get("additionalProperties") is False  # e.g. list_townships
        assert parameterless or typed(doc, request["properties"]["data"]), f"{channel}: payload without properties"
        reply = payload(doc, f"{channel}:reply")
        assert doc["operations"][f"{channel}:reply"]["action"] == "send"
        assert set(reply["properties"]) == {"ok", "data", "seq", "error"}, channel
        assert typed(doc, reply["properties"]["data"]), f"{channel}: reply data without properties"


def test_record_score_payload_and_reply(doc):
    data = typed(doc, payload(doc, "ratings.cmd.record_score")["properties"]["data"])
    assert {"points", "category", "idempotency_key", "rated_kind", "rated_id", "occurred_on"} <= set(data)
    assert data["points"]["description"]
    reply = typed(doc, payload(doc, "ratings.cmd.record_score:reply")["properties"]["data"])
    assert set(reply) == {"score_id", "replayed"}
    rebuilt = typed(doc, payload(doc, "ratings.cmd.rebuild:reply")["properties"]["data"])
    assert set(rebuilt) == {"projection", "county", "events", "seconds"}


def test_every_field_of_a_typed_payload_and_reply_is_described(doc):
    """Field(description=...) on every field: the document is what a newcomer reads."""
    undescribed = []
    for service in TYPED_SERVICES:
        for route in create_service(service).routes:
            channel = f"{service}.{route.kind}.{route.name}"
            for which in (channel, f"{channel}:reply"):
                fields = typed(doc, payload(doc, which)["properties"]["data"])
                undescribed += [f"{which}.{f}" for f, s in fields.items() if not s.get("description")]
    assert not undescribed
