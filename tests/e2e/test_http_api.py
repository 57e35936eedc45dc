"""The first real path end to end over HTTP: a county operator registers branches and members
(also by spreadsheet import), defines a star scheme, records scores and reads star ratings."""
from __future__ import annotations

import io

from openpyxl import Workbook

from tests.conftest import new_county


def problem(resp, status: int) -> dict:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    return resp.json()


async def setup_county(http, token):
    code = new_county()
    r = await http.post("/api/v1/counties", json={"county_code": code, "name": "银海区"}, headers=token("platform_admin"))
    assert r.status_code == 201, r.text
    admin = token("county_admin", code)
    r = await http.post(f"/api/v1/counties/{code}/townships", json={"name": "侨港镇", "township_id": "qiaogang"},
                        headers=admin)
    assert r.status_code == 201, r.text
    branches = []
    for i, name in enumerate(["侨港村党支部", "电建社区党支部"]):
        r = await http.post(f"/api/v1/counties/{code}/organizations", headers=admin, json={
            "name": name, "organization_type": "branch", "host_unit_type": "village" if i == 0 else "community",
            "township_id": "qiaogang", "approved_by": "中共侨港镇委员会", "approved_on": "2019-05-04"})
        assert r.status_code == 201, r.text
        branches.append(r.json()["organization_id"])
    return code, admin, branches


async def test_register_score_and_read_rating_over_http(http, token):
    code, admin, branches = await setup_county(http, token)
    r = await http.post(f"/api/v1/counties/{code}/members", headers=admin, json={
        "name": "张秀玲", "gender": "女", "birth_date": "1978-03-08", "membership_status": "正式党员",
        "joined_on": "2001-07-01", "branch_id": branches[0]})
    assert r.status_code == 201, r.text
    member = r.json()["member_id"]
    r = await http.put(f"/api/v1/counties/{code}/star-schemes/2026", headers=admin,
                       json={"name": "2026年北海党员五星", "preset": "beihai-5"})
    assert r.status_code in (200, 201), r.text
    r = await http.post(f"/api/v1/counties/{code}/members/{member}/scores", headers={**admin, "Idempotency-Key": "hx-1"},
                        json={"year": 2026, "category": "lead_by_example", "points": 10, "reason": "抗台风转移群众",
                              "evidence_ref": "侨港镇〔2026〕12号", "occurred_on": "2026-07-20"})
    assert r.status_code == 201, r.text
    assert int(r.headers["Dangjian-Seq"]) == r.json()["seq"]
    # read-your-writes: the same client reads its own score at once, no sequence passed by hand
    r = await http.get(f"/api/v1/counties/{code}/members/{member}/rating", params={"year": 2026}, headers=admin)
    assert r.status_code == 200, r.text
    rating = r.json()
    assert rating["total_stars"] == 1
    assert rating["stars"][0] == {"category": "lead_by_example", "name": "表率示范星", "kind": "common",
                                  "colour": "gold", "earned": True, "points": 10}
    assert rating["scores"][0]["actor"] == "county_admin:county_admin-tester"
    r = await http.get(f"/api/v1/counties/{code}/star-distribution", params={"year": 2026}, headers=admin)
    assert r.json()["members"]["by_stars"] == {"1": 1}


async def test_scope_rules_over_http(http, token):
    code, admin, branches = await setup_county(http, token)
    r = await http.get(f"/api/v1/counties/{code}/townships", headers=token("county_admin", "110101"))
    assert problem(r, 403)["status"] == 403
    r = await http.post(f"/api/v1/counties/{code}/townships", json={"name": "白虎头"}, headers=token("auditor", code))
    problem(r, 403)
    r = await http.get(f"/api/v1/counties/{code}/townships")
    problem(r, 401)
    r = await http.post(f"/api/v1/counties/{code}/members", headers=admin, json={
        "name": "李明", "gender": "男", "membership_status": "full", "joined_on": "2010-07-01", "branch_id": branches[1]})
    other_member = r.json()["member_id"]
    await http.put(f"/api/v1/counties/{code}/star-schemes/2026", headers=admin, json={"name": "方案", "preset": "532"})
    secretary = token("branch_secretary", code, branch=branches[0])
    r = await http.post(f"/api/v1/counties/{code}/members/{other_member}/scores", headers=secretary, json={
        "year": 2026, "category": "member_corps", "points": 2, "reason": "带头捐款", "occurred_on": "2026-02-01",
        "idempotency_key": "sec-1"})
    assert "本支部" in problem(r, 403)["detail"]


async def test_bad_input_gets_field_messages_never_500(http, token):
    code, admin, branches = await setup_county(http, token)
    bad = [
        ("post", f"/api/v1/counties/{code}/members", {"name": "", "gender": "x", "membership_status": "full",
                                                      "joined_on": "not-a-date", "branch_id": branches[0]}, 422),
        ("post", f"/api/v1/counties/{code}/members", {"name": "王芳", "gender": "女", "membership_status": "full",
                                                      "joined_on": "2030-01-01", "branch_id": branches[0]}, 422),
        ("post", f"/api/v1/counties/{code}/members", {"name": "王芳", "gender": "女", "membership_status": "full",
                                                      "joined_on": "2010-01-01", "branch_id": "no-such-branch"}, 404),
        ("post", f"/api/v1/counties/{code}/organizations", {"name": "x", "organization_type": "branch",
                                                            "host_unit_type": "village", "parent_id": "ghost",
                                                            "approved_by": "县委", "approved_on": "2020-01-01"}, 404),
        ("put", f"/api/v1/counties/{code}/star-schemes/2026", {"name": "坏方案", "slots": [
            {"category": "a", "name": "甲", "kind": "common", "red": 9, "silver": 5, "gold": 10}]}, 422),
        ("post", "/api/v1/counties", {"county_code": "0123", "name": "x"}, 422),
    ]
    for method, url, body, status in bad:
        r = await getattr(http, method)(url, json=body, headers=token("platform_admin") if url.endswith("counties")
                                        else admin)
        p = problem(r, status)
        assert p["detail"] and (p["errors"] or status == 404), p
    r = await http.post(f"/api/v1/counties/{code}/members", content=b"{not json", headers={
        **admin, "content-type": "application/json"})
    problem(r, 422)


def _xlsx(rows: list[list]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(["姓名", "性别", "出生日期", "党员类型", "入党日期", "所在支部"])
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


async def test_excel_import_is_all_or_nothing(http, token):
    code, admin, branches = await setup_county(http, token)
    url = f"/api/v1/counties/{code}/members/import"
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    bad = _xlsx([["陈建国", "男", "1970-01-02", "正式党员", "1995-07-01", "侨港村党支部"],
                 ["黄丽", "女", "1985/3/4", "预备党员", "2031年1月1日", "侨港村党支部"],
                 ["周强", "男", "1990-09-09", "正式党员", "2015-07-01", "不存在的支部"]])
    r = await http.post(url, headers=admin, files={"file": ("党员名册.xlsx", bad, xlsx)})
    p = problem(r, 422)
    fields = " ".join(e["field"] for e in p["errors"])
    assert "row 3" in fields and "row 4" in fields and "row 2" not in fields
    r = await http.get(f"/api/v1/counties/{code}/members", headers=admin)
    assert r.json()["total"] == 0  # nothing half-imported
    good = _xlsx([["陈建国", "男", "1970-01-02", "正式党员", "1995-07-01", "侨港村党支部"],
                  ["黄丽", "女", "1985/3/4", "预备党员", "2025年1月1日", "电建社区党支部"]])
    r = await http.post(url, headers=admin, files={"file": ("党员名册.xlsx", good, xlsx)})
    assert r.status_code in (200, 201), r.text
    assert r.json()["imported"] == 2
    again = await http.post(url, headers=admin, files={"file": ("党员名册.xlsx", good, xlsx)})
    assert again.json()["imported"] == 0 and again.json()["already_imported"] == 2
    r = await http.get(f"/api/v1/counties/{code}/members", headers=admin, params={"branch_id": branches[1]})
    assert [m["name"] for m in r.json()["items"]] == ["黄丽"]


async def test_healthz_reports_each_service_and_projection_lag(http, token):
    assert set((await http.get("/healthz")).json()) == {"status"}  # liveness only without a token
    r = await http.get("/healthz", headers=token("platform_admin"))
    body = r.json()
    assert set(body["services"]) == {"organizations", "ratings", "notifications"}
    for name in ("organizations", "ratings"):
        # a projection stopped on a malformed event (other tests write some on purpose) shows its error instead
        assert all("lag" in p or "error" in p for p in body["services"][name]["projections"])
