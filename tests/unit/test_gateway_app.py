"""The HTTP edge without a broker: auth, county guard, problem+json, request shaping and
read-your-writes bookkeeping. Services are stood in for by a ServiceClient answering from a dict."""
from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from nats import errors as nats_errors

from shared.auth import Actor, issue_token
from shared.credentials import new_signing_key_pem
from tests.unit.gateway_support import COUNTY, OTHER, SECRET, assert_problem, fields, forwarded_actor, token

SCORE = {"year": 2025, "category": "lead_by_example", "points": 5, "reason": "带头参与防汛抢险",
         "occurred_on": "2025-06-01", "idempotency_key": "k-1"}
RECORDED = {"score_id": "s1", "replayed": False}  # what record_score answers (services/ratings/replies.py)


# -- authentication ------------------------------------------------------------------------------
def test_missing_token_is_401_problem(http):
    r = http.get(f"/api/v1/counties/{COUNTY}/townships")
    assert_problem(r, 401, "unauthenticated")
    assert r.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize("headers", [
    {"Authorization": "Bearer not-a-jwt"},
    {"Authorization": "Basic dXNlcjpwdw=="},
    token(secret=new_signing_key_pem()),  # signed by another key
    token(role="township_operator"),  # a township operator without a township
])
def test_bad_token_is_401(http, fake, headers):
    assert_problem(http.get(f"/api/v1/counties/{COUNTY}/townships", headers=headers), 401, "unauthenticated")
    assert fake.calls == []


def test_expired_token_is_401(http):
    expired = issue_token(SECRET, Actor(sub="a", role="county_admin", county=COUNTY), ttl=timedelta(seconds=-5))
    r = http.get(f"/api/v1/counties/{COUNTY}/townships", headers={"Authorization": f"Bearer {expired}"})
    assert "expired" in assert_problem(r, 401, "unauthenticated")["detail"].lower()


def test_unauthenticated_beats_invalid_body(http):
    r = http.post(f"/api/v1/counties/{COUNTY}/members/m1/scores", json={"points": "abc"})
    assert_problem(r, 401, "unauthenticated")


# -- authorization -------------------------------------------------------------------------------
def test_cross_county_is_403(http, fake):
    r = http.get(f"/api/v1/counties/{OTHER}/townships", headers=token())
    assert_problem(r, 403, "forbidden")
    r = http.post(f"/api/v1/counties/{OTHER}/townships", json={"name": "侨港镇"}, headers=token())
    assert_problem(r, 403, "forbidden")
    assert fake.calls == []


def test_platform_admin_may_act_in_any_county(http, fake):
    fake.replies[f"pb.{OTHER}.qry.organizations.list_townships"] = {"ok": True, "data": {"items": []}, "seq": 0}
    r = http.get(f"/api/v1/counties/{OTHER}/townships", headers=token("platform_admin", county=None))
    assert r.status_code == 200, r.text


def test_auditor_reads_but_never_writes(http, fake):
    fake.replies[f"pb.{COUNTY}.qry.organizations.list_townships"] = {"ok": True, "data": {"items": []}, "seq": 3}
    assert http.get(f"/api/v1/counties/{COUNTY}/townships", headers=token("auditor")).status_code == 200
    writes = [("post", f"/api/v1/counties/{COUNTY}/townships", {"name": "侨港镇"}),
              ("post", f"/api/v1/counties/{COUNTY}/members/m1/scores", SCORE),
              ("post", f"/api/v1/counties/{COUNTY}/rating-years/2025/close", {}),
              ("put", f"/api/v1/counties/{COUNTY}/star-schemes/2025", {"name": "方案", "preset": "532"})]
    for method, url, body in writes:
        r = http.request(method, url, json=body, headers=token("auditor"))
        assert_problem(r, 403, "forbidden")
    assert [s for s, _ in fake.calls] == [f"pb.{COUNTY}.qry.organizations.list_townships"]


def test_only_platform_admin_adds_a_county(http, fake):
    body = {"county_code": "450521", "name": "合浦县"}
    assert_problem(http.post("/api/v1/counties", json=body, headers=token()), 403, "forbidden")
    fake.replies["pb.450521.cmd.organizations.add_county"] = lambda req: {
        "ok": True, "data": {"county_code": req["data"]["county_code"], "name": req["data"]["name"]}, "seq": 1}
    r = http.post("/api/v1/counties", json=body, headers=token("platform_admin", county=None))
    assert r.status_code == 201, r.text
    assert r.json() == {"county_code": "450521", "name": "合浦县", "seq": 1}
    assert r.headers["dangjian-seq"] == "1"
    subject, sent = fake.calls[-1]
    assert forwarded_actor(sent).role == "platform_admin" and sent["data"] == body and sent["correlation_id"]


def test_scope_travels_in_the_forwarded_token(http, fake):
    fake.replies[f"pb.{COUNTY}.cmd.ratings.record_score"] = {"ok": True, "data": RECORDED, "seq": 9}
    headers = token("branch_secretary", branch="b7")
    r = http.post(f"/api/v1/counties/{COUNTY}/members/m1/scores", json=SCORE, headers=headers)
    assert r.status_code == 201, r.text
    assert forwarded_actor(fake.calls[-1][1]).model_dump() == {
        "sub": "branch_secretary-1", "role": "branch_secretary", "county": COUNTY, "township": None, "branch": "b7",
        "scope_prefix": None}
    assert fake.calls[-1][1]["token"] == headers["Authorization"].removeprefix("Bearer ")


# -- validation as problem+json ------------------------------------------------------------------
def test_bad_body_gives_field_messages(http, fake):
    r = http.post(f"/api/v1/counties/{COUNTY}/members/m1/scores",
                  json={**SCORE, "points": "abc", "colour": "gold"}, headers=token())
    errors = fields(assert_problem(r, 422, "invalid_input"))
    assert "body.points" in errors and "integer" in errors["body.points"]
    assert "body.colour" in errors and "not permitted" in errors["body.colour"]
    assert fake.calls == []


def test_rules_of_the_full_command_run_at_the_edge(http, fake):
    r = http.post(f"/api/v1/counties/{COUNTY}/members/m1/scores", json={**SCORE, "points": 0}, headers=token())
    assert "must not be 0" in fields(assert_problem(r, 422, "invalid_input"))["body.points"]
    no_key = {k: v for k, v in SCORE.items() if k != "idempotency_key"}
    r = http.post(f"/api/v1/counties/{COUNTY}/members/m1/scores", json=no_key, headers=token())
    assert "body.idempotency_key" in fields(assert_problem(r, 422, "invalid_input"))
    assert fake.calls == []


@pytest.mark.parametrize("data, content_type", [
    (b'{"year": 2025,', "application/json"),
    (b"\xff\xfe not json", "application/json"),
    (b"[1, 2]", "application/json"),
    (b"year=2025", "application/x-www-form-urlencoded"),
    (b"", "application/json"),
])
def test_malformed_bodies_are_4xx_not_500(http, data, content_type):
    r = http.post(f"/api/v1/counties/{COUNTY}/members/m1/scores", content=data,
                  headers={**token(), "Content-Type": content_type})
    assert 400 <= r.status_code < 500, r.text
    assert r.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("method, url", [
    ("get", "/api/v1/counties/abc/townships"),
    ("get", "/api/v1/counties/045050/townships"),
    ("get", f"/api/v1/counties/{COUNTY}/star-schemes/abc"),
    ("get", f"/api/v1/counties/{COUNTY}/star-schemes/1999"),
    ("get", f"/api/v1/counties/{COUNTY}/members?limit=501"),
    ("get", f"/api/v1/counties/{COUNTY}/members?offset=-1"),
    ("get", f"/api/v1/counties/{COUNTY}/members/a.b"),
    ("get", f"/api/v1/counties/{COUNTY}/star-schemes/2025?rated_kind=village"),
    ("post", f"/api/v1/counties/{COUNTY}/rating-years/20x5/close"),
])
def test_bad_path_and_query_params_are_422(http, fake, method, url):
    r = http.request(method, url, json={}, headers=token("platform_admin", county=None))
    assert_problem(r, 422, "invalid_input")
    assert fake.calls == []


def test_year_comes_from_the_path_only(http, fake):
    fake.replies[f"pb.{COUNTY}.cmd.ratings.define_scheme"] = {"ok": True, "seq": 4, "data": {
        "scheme_id": "2025.member.county", "year": 2025, "rated_kind": "member"}}
    r = http.put(f"/api/v1/counties/{COUNTY}/star-schemes/2025", json={"name": "方案", "year": 2025},
                 headers=token())
    assert "body.year" in fields(assert_problem(r, 422, "invalid_input"))
    r = http.put(f"/api/v1/counties/{COUNTY}/star-schemes/2025", json={"name": "2025年党员星级管理方案",
                 "preset": "532"}, headers=token())
    assert r.status_code == 200, r.text
    assert fake.calls[-1][1]["data"]["year"] == 2025
    assert fake.calls[-1][1]["data"]["name"] == "2025年党员星级管理方案"


def test_unknown_route_and_method_are_problems(http):
    assert_problem(http.get("/api/v1/nowhere", headers=token()), 404, "not_found")
    assert_problem(http.delete(f"/api/v1/counties/{COUNTY}/townships", headers=token()), 405, "method_not_allowed")


# -- forwarding ----------------------------------------------------------------------------------
def test_score_takes_path_and_idempotency_header(http, fake):
    fake.replies[f"pb.{COUNTY}.cmd.ratings.record_score"] = {"ok": True, "data": RECORDED, "seq": 12}
    body = {k: v for k, v in SCORE.items() if k != "idempotency_key"}
    r = http.post(f"/api/v1/counties/{COUNTY}/organizations/o9/scores", json=body,
                  headers={**token(), "Idempotency-Key": "hdr-1"})
    assert r.status_code == 201, r.text
    assert r.json() == {**RECORDED, "seq": 12}
    subject, sent = fake.calls[-1]
    assert subject == f"pb.{COUNTY}.cmd.ratings.record_score"
    assert sent["data"] == {**body, "rated_kind": "organization", "rated_id": "o9", "idempotency_key": "hdr-1",
                            "evidence_ref": None}
    r = http.post(f"/api/v1/counties/{COUNTY}/members/m1/scores", json=SCORE,
                  headers={**token(), "Idempotency-Key": "ignored"})
    assert fake.calls[-1][1]["data"]["idempotency_key"] == "k-1"
    assert fake.calls[-1][1]["data"]["rated_kind"] == "member"


def test_path_ids_are_merged_into_the_data(http, fake):
    ok = {"ok": True, "data": {}, "seq": 5}
    moved = {"ok": True, "data": {"member_id": "m1", "branch_id": "b2"}, "seq": 5}
    fake.replies.update({f"pb.{COUNTY}.cmd.organizations.transfer_member": moved,
                         f"pb.{COUNTY}.cmd.ratings.revoke_score": {**ok, "data": {"score_id": "s1", "revoked": True}},
                         f"pb.{COUNTY}.cmd.ratings.reopen_year": {**ok, "data": {"year": 2025, "closed": False}}})
    r = http.post(f"/api/v1/counties/{COUNTY}/members/m1/transfer",
                  json={"to_branch_id": "b2", "transferred_on": "2025-03-01"}, headers=token())
    assert r.status_code == 200 and fake.calls[-1][1]["data"] == {
        "member_id": "m1", "to_branch_id": "b2", "transferred_on": "2025-03-01", "reason": None}
    r = http.post(f"/api/v1/counties/{COUNTY}/scores/s1/revocation", json={"reason": "录入错误"}, headers=token())
    assert r.status_code == 200 and fake.calls[-1][1]["data"] == {"score_id": "s1", "reason": "录入错误"}
    r = http.post(f"/api/v1/counties/{COUNTY}/rating-years/2025/reopen", json={"reason": "补录"}, headers=token())
    assert r.status_code == 200 and fake.calls[-1][1]["data"] == {"year": 2025, "reason": "补录"}


def test_service_refusal_keeps_code_status_and_chinese_text(http, fake):
    fake.replies[f"pb.{COUNTY}.cmd.organizations.add_township"] = {"ok": False, "error": {
        "code": "township_exists", "detail": "乡镇已存在：侨港镇", "status": 409,
        "errors": [{"field": "name", "message": "重名"}]}}
    r = http.post(f"/api/v1/counties/{COUNTY}/townships", json={"name": "侨港镇"}, headers=token())
    body = assert_problem(r, 409, "township_exists")
    assert body["detail"] == "乡镇已存在：侨港镇" and body["errors"] == [{"field": "name", "message": "重名"}]
    assert "侨港镇".encode() in r.content  # UTF-8, not \u escapes
    assert fake.calls[-1][1]["data"]["name"] == "侨港镇"


def test_no_responders_is_503(http):
    r = http.get(f"/api/v1/counties/{COUNTY}/townships", headers=token())
    assert_problem(r, 503, "service_unavailable")


def test_timeout_is_503(http, fake):
    async def slow(subject, payload, timeout):
        raise nats_errors.TimeoutError
    fake.request = slow
    assert_problem(http.get(f"/api/v1/counties/{COUNTY}/townships", headers=token()), 503, "service_unavailable")


def test_unexpected_failure_is_a_500_problem_without_internals(http, fake):
    async def broken(subject, payload, timeout):
        raise RuntimeError("secret internals")
    fake.request = broken
    r = http.get(f"/api/v1/counties/{COUNTY}/townships", headers=token())
    body = assert_problem(r, 500, "internal_error")
    assert "secret internals" not in r.text and "Traceback" not in r.text and body["errors"] == []


# -- read-your-writes ----------------------------------------------------------------------------
def test_reads_after_writes_carry_min_seq(http, fake):
    fake.replies[f"pb.{COUNTY}.cmd.organizations.add_township"] = {"ok": True, "data": {"township_id": "t1"}, "seq": 42}
    fake.replies[f"pb.{COUNTY}.qry.organizations.list_townships"] = {"ok": True, "data": {"items": []}, "seq": 42}
    r = http.get(f"/api/v1/counties/{COUNTY}/townships", headers=token())
    assert fake.calls[-1][1]["min_seq"] is None
    r = http.post(f"/api/v1/counties/{COUNTY}/townships", json={"name": "侨港镇"}, headers=token())
    assert r.status_code == 201 and r.json() == {"township_id": "t1", "seq": 42}
    assert r.headers["dangjian-seq"] == "42"
    http.get(f"/api/v1/counties/{COUNTY}/townships", headers=token())
    assert fake.calls[-1][1]["min_seq"] == 42
    http.get(f"/api/v1/counties/{COUNTY}/townships", headers={**token(), "Dangjian-Min-Seq": "50"})
    assert fake.calls[-1][1]["min_seq"] == 50
    http.get(f"/api/v1/counties/{COUNTY}/townships", headers=token("auditor"))  # another client
    assert fake.calls[-1][1]["min_seq"] is None
    r = http.get(f"/api/v1/counties/{COUNTY}/townships", headers={**token(), "Dangjian-Min-Seq": "x"})
    assert_problem(r, 422, "invalid_input")


def test_query_parameters_are_forwarded(http, fake):
    fake.replies[f"pb.{COUNTY}.qry.organizations.list_members"] = {"ok": True, "data": {"items": []}, "seq": 0}
    fake.replies[f"pb.{COUNTY}.qry.ratings.member_rating"] = {"ok": True, "data": RATING, "seq": 0}
    http.get(f"/api/v1/counties/{COUNTY}/members?branch_id=b1&limit=20", headers=token())
    assert fake.calls[-1][1]["data"] == {"branch_id": "b1", "limit": 20, "offset": 0}
    r = http.get(f"/api/v1/counties/{COUNTY}/members/m1/rating?year=2024", headers=token())
    assert r.json() == RATING and fake.calls[-1][1]["data"] == {"member_id": "m1", "year": 2024}


RATING = {"rated_kind": "member", "rated_id": "m1", "year": 2024, "branch_id": "b1", "township_id": None,
          "points_by_category": {"harmony": 6}, "total_stars": 0, "star_class": None, "total_points": 6,
          "stars": [{"category": "harmony", "name": "和谐促进星", "kind": "common", "colour": "red", "earned": False,
                     "points": 6}],
          "scores": [{"score_id": "s1", "category": "harmony", "points": 6, "reason": "调解邻里纠纷",
                      "evidence_ref": None, "occurred_on": "2024-05-01", "actor": "county_admin:x", "revoked": False,
                      "revoke_reason": None}]}


def test_an_answer_that_breaks_the_reply_contract_is_a_502_not_a_500(http, fake):
    fake.replies[f"pb.{COUNTY}.qry.ratings.member_rating"] = {"ok": True, "data": {"stars": 3}, "seq": 0}
    r = http.get(f"/api/v1/counties/{COUNTY}/members/m1/rating?year=2024", headers=token())
    body = assert_problem(r, 502, "bad_gateway")
    assert "contract" in body["detail"] and "Traceback" not in r.text


# -- import --------------------------------------------------------------------------------------
def test_import_forwards_the_file_base64(http, fake):
    fake.replies[f"pb.{COUNTY}.cmd.organizations.import_members"] = {"ok": True, "seq": 7, "data": {
        "import_id": "i1", "imported": 1, "already_imported": 0, "member_ids": ["m1"]}}
    csv = "姓名,性别\n张秀玲,女\n".encode()
    r = http.post(f"/api/v1/counties/{COUNTY}/members/import", files={"file": ("党员.csv", csv, "text/csv")},
                  headers=token())
    assert r.status_code == 201, r.text
    assert fake.calls[-1][1]["data"] == {"filename": "党员.csv", "content_b64": base64.b64encode(csv).decode()}


def test_import_refuses_other_files(http, fake):
    url = f"/api/v1/counties/{COUNTY}/members/import"
    r = http.post(url, files={"file": ("members.exe", b"MZ", "application/octet-stream")}, headers=token())
    assert "body.file" in fields(assert_problem(r, 422, "invalid_file"))
    r = http.post(url, files={"file": ("empty.csv", b"", "text/csv")}, headers=token())
    assert_problem(r, 422, "invalid_file")
    assert_problem(http.post(url, headers=token()), 422, "invalid_input")  # no file at all
    r = http.post(url, files={"file": ("big.csv", b"x" * (10 * 1024 * 1024 + 1), "text/csv")}, headers=token())
    assert_problem(r, 413, "payload_too_large")
    assert fake.calls == []


def test_import_row_errors_come_back_one_per_row(http, fake):
    fake.replies[f"pb.{COUNTY}.cmd.organizations.import_members"] = {"ok": False, "error": {
        "code": "import_invalid", "detail": "2 行有误", "status": 422,
        "errors": [{"field": "row 2.gender", "message": "性别无效"}, {"field": "row 5.joined_on", "message": "日期无效"}]}}
    r = http.post(f"/api/v1/counties/{COUNTY}/members/import", files={"file": ("m.xlsx", b"PK..", "application/zip")},
                  headers=token())
    assert len(assert_problem(r, 422, "import_invalid")["errors"]) == 2


# -- health, docs, dashboard ---------------------------------------------------------------------
def test_healthz_ok_and_degraded(http, fake):
    for s in ("organizations", "ratings", "notifications"):
        fake.replies[f"pb.platform.health.{s}"] = {"service": s, "status": "ok", "projections": []}
    r = http.get("/healthz")
    assert r.status_code == 200 and r.json()["status"] == "ok"
    del fake.replies["pb.platform.health.notifications"]
    r = http.get("/healthz")
    assert r.status_code == 503 and r.json() == {"status": "degraded"}  # liveness only without a token
    r = http.get("/healthz", headers=token("platform_admin", county=None))
    assert r.status_code == 503 and r.json()["status"] == "degraded"
    assert r.json()["services"]["notifications"]["status"] == "unreachable"
    assert r.json()["services"]["ratings"]["status"] == "ok"


def test_openapi_lists_the_routes(http):
    spec = http.get("/openapi.json").json()
    assert spec["info"]["title"] == "dangjian 党建 API"
    paths = spec["paths"]
    expected = {
        "/api/v1/counties": {"post"},
        "/api/v1/counties/{county}/townships": {"get", "post"},
        "/api/v1/counties/{county}/organizations": {"get", "post"},
        "/api/v1/counties/{county}/members": {"get", "post"},
        "/api/v1/counties/{county}/members/import": {"post"},
        "/api/v1/counties/{county}/members/{member_id}": {"get"},
        "/api/v1/counties/{county}/members/{member_id}/transfer": {"post"},
        "/api/v1/counties/{county}/star-schemes/{year}": {"get", "put"},
        "/api/v1/counties/{county}/members/{member_id}/scores": {"post"},
        "/api/v1/counties/{county}/organizations/{organization_id}/scores": {"post"},
        "/api/v1/counties/{county}/scores/{score_id}/revocation": {"post"},
        "/api/v1/counties/{county}/rating-years/{year}/close": {"post"},
        "/api/v1/counties/{county}/rating-years/{year}/reopen": {"post"},
        "/api/v1/counties/{county}/members/{member_id}/rating": {"get"},
        "/api/v1/counties/{county}/organizations/{organization_id}/rating": {"get"},
        "/api/v1/counties/{county}/star-distribution": {"get"},
        "/healthz": {"get"},
    }
    for path, methods in expected.items():
        assert methods <= set(paths.get(path, {})), path
    schemas = spec["components"]["schemas"]
    assert {"AddCounty", "RegisterMember", "ScoreEntry", "SchemeDefinition", "Problem"} <= set(schemas)
    assert "rated_id" not in schemas["ScoreEntry"]["properties"]
    problem = paths["/api/v1/counties/{county}/townships"]["post"]["responses"]["422"]["content"]
    assert "application/problem+json" in problem
    assert http.get("/docs").status_code == 200


def test_the_workbench_asks_for_sign_in_and_loads_nothing_from_elsewhere(http):
    r = http.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    r = http.get("/login")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "党建" in r.text and 'href="/docs"' in r.text and 'href="/openapi.json"' in r.text
    assert "http://" not in r.text and "https://" not in r.text
    assert http.get("/static/vendor/echarts-5.6.0.min.js").status_code == 200
