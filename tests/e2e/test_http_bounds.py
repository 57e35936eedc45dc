"""No 500 on any input (issue 9): numbers beyond 64 bits or any sane bound, and rule tables that are
incomplete, are refused with a field-level problem+json before they reach the log."""
from __future__ import annotations

import io

from openpyxl import load_workbook

from tests.e2e.test_http_api import setup_county
from tests.e2e.test_http_campaigns import problem

HUGE = 10**20


def fields(resp) -> str:
    """The fields a 422 names, e.g. "body.points header.Dangjian-Min-Seq"."""
    return " ".join(e["field"] for e in problem(resp, 422)["errors"])


async def test_out_of_range_numbers_are_refused_naming_the_field(http, token):
    code, admin, branches = await setup_county(http, token)
    base = f"/api/v1/counties/{code}"
    r = await http.post(f"{base}/members", headers=admin, json={
        "member_id": "huang", "name": "黄海燕", "gender": "女", "membership_status": "正式党员",
        "joined_on": "2010-07-01", "branch_id": branches[0]})
    assert r.status_code == 201, r.text
    assert (await http.put(f"{base}/star-schemes/2026", headers=admin,
                           json={"name": "方案", "preset": "beihai-5"})).status_code in (200, 201)
    score = {"year": 2026, "category": "lead_by_example", "reason": "带头", "occurred_on": "2026-03-01",
             "idempotency_key": "big"}
    assert "points" in fields(await http.post(f"{base}/members/huang/scores", headers=admin,
                                              json={**score, "points": HUGE}))
    assert "points" in fields(await http.post(f"{base}/members/huang/scores", headers=admin,
                                              json={**score, "points": 1e20}))
    slot = {"category": "a", "name": "甲", "kind": "common", "points_per_star": 10, "max_points": HUGE}
    assert "max_points" in (fields(await http.put(f"{base}/star-schemes/2027", headers=admin, json={
        "name": "坏方案", "slots": [slot]})))
    assert "offset" in (fields(await http.get(f"{base}/members", headers=admin, params={"offset": HUGE})))
    r = await http.get(f"{base}/townships", headers={**admin, "Dangjian-Min-Seq": str(HUGE)})
    assert "Dangjian-Min-Seq" in fields(r)

    table = (await http.get(f"{base}/rules", headers=admin)).json()["in_force"]
    huge_threshold = [{**s, "threshold": HUGE} for s in table["setting"]]
    assert "setting" in (fields(await http.put(f"{base}/rules", headers=admin, json={
        **table, "effective_from": "2026-01-01", "setting": huge_threshold})))
    assert "follow_up_months" in fields(await http.put(f"{base}/rules", headers=admin, json={
        **table, "effective_from": "2026-01-01", "follow_up_months": HUGE}))


async def test_a_rule_table_missing_a_setting_rule_is_refused_and_founding_still_works(http, token):
    code, admin, branches = await setup_county(http, token)
    base = f"/api/v1/counties/{code}"
    table = (await http.get(f"{base}/rules", headers=admin)).json()["in_force"]
    partial = [s for s in table["setting"] if s["code"] != "own_branch_min_full_members"]
    p = problem(await http.put(f"{base}/rules", headers=admin, json={
        **table, "effective_from": "2025-01-01", "setting": partial}), 422)
    assert p["code"] == "setting_rules_missing" and p["errors"][0]["field"].endswith("setting")
    assert "own_branch_min_full_members" in p["detail"]
    # the table in force is still whole: an enterprise branch can be founded under it
    r = await http.post(f"{base}/enterprises", headers=admin, json={
        "enterprise_id": "seafood", "uscc": "91450503MA5KQ0G16K", "name": "侨港海产品加工有限公司",
        "unit_type": "非公企业", "township_id": "qiaogang", "industry": "制造业", "employees": 45, "full_members": 3,
        "registered_on": "2025-01-15"})
    assert r.status_code == 201, r.text
    r = await http.post(f"{base}/enterprise-branches", headers=admin, json={
        "enterprise_ids": ["seafood"], "founding_mode": "单独组建", "organization_name": "侨港海产品加工有限公司党支部",
        "approved_by": "中共侨港镇委员会", "approved_on": "2025-03-01", "founded_on": "2025-03-10"})
    assert r.status_code == 201, r.text


async def test_a_workbook_export_survives_control_characters_in_stored_text(http, token):
    """Found by the schemathesis run: a name stored with a control character made the .xlsx export a 500
    (openpyxl refuses such cells); it is written as U+FFFD instead."""
    code, admin, _ = await setup_county(http, token)
    base = f"/api/v1/counties/{code}"
    r = await http.post(f"{base}/organizations", headers=admin, json={
        "organization_id": "ctl", "name": "侨港\x01村党支部", "organization_type": "branch", "host_unit_type": "village",
        "township_id": "qiaogang", "approved_by": "中共侨港镇委员会", "approved_on": "2019-05-04"})
    assert r.status_code == 201, r.text
    r = await http.post(f"{base}/rectification-cases", headers=admin, json={
        "organization_id": "ctl", "campaign": "2025", "reasons": ["weak_service"], "screened_on": "2025-01-10",
        "decided_on": "2025-01-20"})
    assert r.status_code == 201, r.text
    r = await http.get(f"{base}/rectification-ledger.xlsx", headers={**admin, "Dangjian-Min-Seq": str(r.json()["seq"])})
    assert r.status_code == 200, r.text
    rows = list(load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True))
    assert rows[1][2] == "侨港\ufffd村党支部"
