"""Over HTTP against the real services: the "4个100%" targets counted against the county's qualifying
units (符合组建条件) as of dates before and after the rule changes, and township operators confined to
their own township's organizations (issue 9: a committee election of another township was accepted)."""
from __future__ import annotations

from services.organizations.enterprises.uscc import uscc_from_parts
from tests.e2e.test_http_campaigns import establish, new_county_with_townships, problem

DIVISION = "450503"
# key: (unit type, employees, full members)
UNITS = {
    "P": ("private_enterprise", 50, 4),   # in scope, 4 full members: qualifies either way; organized
    "Q": ("private_enterprise", 40, 1),   # in scope, one member; has an instructor
    "R": ("private_enterprise", 12, 0),   # in scope, no members
    "S": ("private_enterprise", 8, 3),    # out of scope (<10 employees) but 3 full members
    "T": ("social_organization", 35, 3),  # in scope and 3 full members
}


def targets(report: dict) -> dict[str, tuple[int, int, set[str]]]:
    return {t["code"]: (t["population"], t["satisfied"], {u["name"][0] for u in t["shortfall"]})
            for t in report["targets"] if t["code"] in ("enterprises_organized", "social_orgs_organized",
                                                         "instructors_for_unorganized")}


async def test_the_first_two_targets_count_the_qualifying_units_from_the_rule_s_date(http, token):
    code, admin = await new_county_with_townships(http, token, {"qiaogang": "侨港镇"})
    base = f"/api/v1/counties/{code}"
    ids = {}
    for n, (key, (unit_type, employees, full)) in enumerate(UNITS.items(), start=3001):
        r = await http.post(f"{base}/enterprises", headers=admin, json={
            "uscc": uscc_from_parts(DIVISION, f"{n:08d}"), "name": f"{key}海产品有限公司", "unit_type": unit_type,
            "township_id": "qiaogang", "industry": "制造业", "employees": employees, "full_members": full,
            "registered_on": "2025-01-15"})
        assert r.status_code == 201, r.text
        ids[key] = r.json()["enterprise_id"]
    r = await http.post(f"{base}/enterprise-branches", headers=admin, json={
        "enterprise_ids": [ids["P"]], "founding_mode": "standalone", "organization_name": "P公司党支部",
        "approved_by": "中共侨港镇委员会", "approved_on": "2025-03-01", "founded_on": "2025-03-10"})
    assert r.status_code == 201, r.text
    r = await http.post(f"{base}/enterprises/{ids['Q']}/instructor", headers=admin,
                        json={"person_name": "陈海生", "role": "党建指导员", "assigned_on": "2025-04-01"})
    assert r.status_code == 200, r.text

    # from 2026 the county counts units with 3 or more full members as qualifying (符合组建条件)
    r = await http.get(f"{base}/rules", headers=admin)
    table = r.json()["in_force"]
    assert table["qualifying"] == {"min_full_members": None, "min_employees": None}  # baseline: every in-scope unit
    r = await http.put(f"{base}/rules", headers=admin, json={
        **table, "effective_from": "2026-01-01", "qualifying": {"min_full_members": 3}})
    assert r.status_code == 200, r.text
    r = await http.get(f"{base}/rules", headers=admin, params={"as_of": "2026-06-30"})
    assert r.json()["in_force"]["qualifying"] == {"min_full_members": 3, "min_employees": None}

    before = (await http.get(f"{base}/coverage", headers=admin, params={"as_of": "2025-12-31"})).json()
    after = (await http.get(f"{base}/coverage", headers=admin, params={"as_of": "2026-06-30"})).json()
    assert targets(before) == {  # every in-scope unit: P Q R (enterprises), T (social), Q R T unorganized
        "enterprises_organized": (3, 1, {"Q", "R"}), "social_orgs_organized": (1, 0, {"T"}),
        "instructors_for_unorganized": (3, 1, {"R", "T"})}
    assert targets(after) == {  # qualifying: P S (enterprises), T (social); unorganized in scope or qualifying
        "enterprises_organized": (2, 1, {"S"}), "social_orgs_organized": (1, 0, {"T"}),
        "instructors_for_unorganized": (4, 1, {"R", "S", "T"})}
    county_row = [r for r in after["rows"] if r["dimension"] == "county"]
    assert county_row == [r for r in before["rows"] if r["dimension"] == "county"]  # 组织覆盖率 itself unchanged
    assert county_row[0]["in_scope"] == 4 and county_row[0]["organization_coverage_rate"] == 0.25
    live = (await http.get(f"{base}/coverage", headers=admin)).json()
    assert targets(live) == targets(after)


async def test_township_operators_act_only_on_their_own_township_s_organizations(http, token):
    code, admin = await new_county_with_townships(http, token, {"qiaogang": "侨港镇", "gaode": "高德街道"})
    base = f"/api/v1/counties/{code}"
    own = await establish(http, code, admin, "侨港村党支部", "qiaogang")
    other = await establish(http, code, admin, "高德社区党支部", "gaode")
    for branch in (own, other):
        r = await http.post(f"{base}/members", headers=admin, json={
            "name": "黄海燕", "gender": "女", "birth_date": "1980-01-01", "membership_status": "正式党员",
            "joined_on": "2010-07-01", "branch_id": branch})
        assert r.status_code == 201, r.text
    operator = token("township_operator", code, township="qiaogang")
    election = {"elected_on": "2025-03-01", "committee": [{"role": "secretary", "name": "黄海燕"}]}

    p = problem(await http.post(f"{base}/organizations/{other}/committee", headers=operator, json=election), 403)
    assert "本乡镇" in p["detail"]
    r = await http.post(f"{base}/organizations/{own}/committee", headers=operator, json=election)
    assert r.status_code == 200, r.text
    after_it = {**admin, "Dangjian-Min-Seq": str(r.json()["seq"])}  # another token: wait for that write
    secretaries = {o["organization_id"]: o["secretary"]
                   for o in (await http.get(f"{base}/organizations", headers=after_it)).json()["items"]}
    assert secretaries == {own: "黄海燕", other: None}  # nothing recorded for the other township

    # nor may they set up an organization under another township's one, though "in" their own township
    child = {"name": "高德社区第一党小组", "organization_type": "party_group", "host_unit_type": "community",
             "parent_id": other, "township_id": "qiaogang", "approved_by": "中共侨港镇委员会", "approved_on": "2025-03-01"}
    problem(await http.post(f"{base}/organizations", headers=operator, json=child), 403)
    r = await http.post(f"{base}/organizations", headers=operator, json={**child, "parent_id": own,
                                                                        "name": "侨港村第一党小组"})
    assert r.status_code == 201, r.text
