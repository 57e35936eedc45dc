"""The HTTP contract in /openapi.json: every 2xx of a typed operation has a response schema with properties
(a model, not `dict`/`Any`), and every 4xx is a problem+json. Validation happens once per edge: FastAPI
validates the body, the service the whole command — a refusal only the service can see comes back named
where the client put the value."""
from __future__ import annotations

import pytest

from tests.unit.gateway_support import COUNTY, assert_problem, fields, token



def resolve(spec: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def has_properties(spec: dict, schema: dict) -> bool:
    """An object model with fields, or an array of them (not {}, not a bare object of anything)."""
    schema = resolve(spec, schema)
    if schema.get("type") == "array":
        return has_properties(spec, schema.get("items", {}))
    return bool(schema.get("properties"))


def typed_operations(spec: dict):
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            if path.startswith("/api/v1/") or path == "/healthz":
                yield f"{method.upper()} {path}", op


def test_every_2xx_of_a_typed_operation_has_a_response_schema(http):
    spec = http.get("/openapi.json").json()
    seen, untyped = [], []
    for name, op in typed_operations(spec):
        seen.append(name)
        for status, response in op["responses"].items():
            if status.startswith("2"):
                schemas = [c.get("schema", {}) for c in response.get("content", {}).values()]
                if not schemas or not all(has_properties(spec, s) or s.get("format") == "binary" for s in schemas):
                    untyped.append(f"{name} {status}")
    assert len([n for n in seen if " /api/v1/" in n]) >= 60 and "GET /healthz" in seen
    assert not untyped


def test_every_4xx_of_a_typed_operation_is_problem_json(http):
    spec = http.get("/openapi.json").json()
    wrong = [f"{name} {status}" for name, op in typed_operations(spec) for status, response in op["responses"].items()
             if status.startswith("4") and list(response.get("content", {})) != ["application/problem+json"]]
    assert not wrong
    score = spec["paths"]["/api/v1/counties/{county}/members/{member_id}/scores"]["post"]["responses"]
    assert {"401", "403", "404", "409", "422", "503"} <= set(score)


def test_a_write_answers_its_reply_model_plus_seq(http):
    spec = http.get("/openapi.json").json()
    created = spec["paths"]["/api/v1/counties/{county}/members/{member_id}/scores"]["post"]["responses"]["201"]
    model = resolve(spec, created["content"]["application/json"]["schema"])
    assert set(model["properties"]) == {"score_id", "replayed", "seq"}
    rating = spec["paths"]["/api/v1/counties/{county}/members/{member_id}/rating"]["get"]["responses"]["200"]
    stars = resolve(spec, rating["content"]["application/json"]["schema"])["properties"]["stars"]
    assert {"colour", "earned", "points"} <= set(resolve(spec, stars["items"])["properties"])


@pytest.mark.parametrize("field, named", [("year", "path.year"), ("reason", "body.reason"),
                                          ("slots.0.red", "body.slots.0.red")])
def test_a_refusal_only_the_service_sees_is_named_where_the_value_came_from(http, fake, field, named):
    fake.replies[f"pb.{COUNTY}.cmd.ratings.reopen_year"] = {"ok": False, "error": {
        "code": "invalid_input", "detail": "输入有误 / invalid input", "status": 422,
        "errors": [{"field": field, "message": "不对 / wrong"}]}}
    r = http.post(f"/api/v1/counties/{COUNTY}/rating-years/2025/reopen", json={"reason": "补录"}, headers=token())
    assert fields(assert_problem(r, 422, "invalid_input")) == {named: "不对 / wrong"}


def test_a_domain_refusal_keeps_its_field_names(http, fake):
    fake.replies[f"pb.{COUNTY}.cmd.ratings.record_score"] = {"ok": False, "error": {
        "code": "category_not_in_scheme", "detail": "类别不在设星方案中", "status": 422,
        "errors": [{"field": "category", "message": "可选：harmony"}]}}
    r = http.post(f"/api/v1/counties/{COUNTY}/members/m1/scores", headers=token(), json={
        "year": 2025, "category": "kite", "points": 5, "reason": "放风筝", "occurred_on": "2025-06-01",
        "idempotency_key": "k-1"})
    assert fields(assert_problem(r, 422, "category_not_in_scheme")) == {"category": "可选：harmony"}


def test_the_body_is_validated_once_at_the_edge_and_sent_as_validated(http, fake):
    """A field validator of the command runs in the body model (FastAPI), and what FastAPI made of the body
    (stripped, coerced, defaults) is what the service gets — no second validation at the gateway."""
    fake.replies[f"pb.{COUNTY}.cmd.ratings.close_year"] = {"ok": True, "data": {"year": 2025, "closed": True}, "seq": 3}
    r = http.post(f"/api/v1/counties/{COUNTY}/rating-years/2025/close", json={"reason": "  年度评定完成  "},
                  headers=token())
    assert r.status_code == 200 and r.json() == {"year": 2025, "closed": True, "seq": 3}
    assert fake.calls[-1][1]["data"] == {"year": 2025, "reason": "年度评定完成"}
