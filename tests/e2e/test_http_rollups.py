"""Provincial rollups over HTTP (issue 14 item 3): a province_admin scoped by division-code prefix sees
each covered county's coverage, star distribution and rectification conversion as of a date, and the
totals; it reads no county endpoint, and county tokens read no rollup. The token comes from the CLI."""
from __future__ import annotations

import asyncio
import random

from typer.testing import CliRunner

from services.cli import app as cli
from services.organizations.enterprises.uscc import uscc_from_parts
from tests.conftest import _used_codes, cli_env
from tests.e2e.test_http_campaigns import establish, problem

CASE_STEPS = [
    ("plan", {"plan": "一村一策", "measures": ["调整书记"], "due_on": "2025-12-31"}),
    ("township-acceptance", {"accepted_on": "2025-06-01", "accepted_by": "中共侨港镇委员会"}),
    ("acceptance", {"accepted_on": "2025-07-01", "accepted_by": "中共银海区委组织部"}),
]


def province_codes() -> tuple[str, str]:
    """Two counties of one prefecture "66xx" (tests' other counties never start with 66)."""
    while True:
        pref = f"66{random.randint(10, 99)}"
        a, b = f"{pref}01", f"{pref}02"
        if a not in _used_codes and b not in _used_codes:
            _used_codes.update({a, b})
            return a, b


async def county(http, token, code: str, name: str) -> tuple[str, dict]:
    r = await http.post("/api/v1/counties", json={"county_code": code, "name": name}, headers=token("platform_admin"))
    assert r.status_code == 201, r.text
    admin = token("county_admin", code)
    r = await http.post(f"/api/v1/counties/{code}/townships", json={"name": "侨港镇", "township_id": "qiaogang"},
                        headers=admin)
    assert r.status_code == 201, r.text
    return f"/api/v1/counties/{code}", admin


async def flag(http, base: str, admin: dict, organization: str) -> str:
    r = await http.post(f"{base}/rectification-cases", headers=admin, json={
        "organization_id": organization, "campaign": "2025", "reasons": ["secretary_unfit"],
        "screened_on": "2025-01-10", "decided_on": "2025-01-20"})
    assert r.status_code == 201, r.text
    return r.json()["case_id"]


async def test_a_province_admin_sees_each_covered_county_and_the_totals(http, token, settings):
    one, two = province_codes()
    base, admin = await county(http, token, one, "海城区")
    weak = await establish(http, one, admin, "侨港村党支部")
    case = await flag(http, base, admin, weak)
    for step, body in CASE_STEPS:
        assert (await http.post(f"{base}/rectification-cases/{case}/{step}", headers=admin, json=body)).status_code == 200
    ids = []
    for n, full in ((1, 3), (2, 0)):
        r = await http.post(f"{base}/enterprises", headers=admin, json={
            "uscc": uscc_from_parts("450503", f"{8000 + n:08d}"), "name": f"海城{n}号有限公司", "unit_type": "非公企业",
            "township_id": "qiaogang", "industry": "制造业", "employees": 50, "full_members": full,
            "registered_on": "2025-01-15"})
        assert r.status_code == 201, r.text
        ids.append(r.json()["enterprise_id"])
    r = await http.post(f"{base}/enterprise-branches", headers=admin, json={
        "enterprise_ids": ids[:1], "founding_mode": "单独组建", "organization_name": "海城1号有限公司党支部",
        "approved_by": "中共侨港镇委员会", "approved_on": "2025-03-01", "founded_on": "2025-03-10"})
    assert r.status_code == 201, r.text
    assert (await http.put(f"{base}/star-schemes/2025", headers=admin,
                           json={"name": "方案", "preset": "beihai-5"})).status_code in (200, 201)
    r = await http.post(f"{base}/members", headers=admin, json={
        "member_id": "lin", "name": "林海", "gender": "男", "membership_status": "正式党员", "joined_on": "2010-07-01",
        "branch_id": weak})
    r = await http.post(f"{base}/members/lin/scores", headers=admin, json={
        "year": 2025, "category": "lead_by_example", "points": 10, "reason": "带头抗台", "occurred_on": "2025-07-20",
        "idempotency_key": "lin-1"})
    assert r.status_code == 201, r.text
    base2, admin2 = await county(http, token, two, "银城区")
    r = await http.post(f"{base2}/rectification-cases", headers=admin2, json={
        "organization_id": await establish(http, two, admin2, "电建村党支部"), "campaign": "2025",
        "reasons": ["weak_service"], "screened_on": "2025-01-10", "decided_on": "2025-01-20"})
    assert r.status_code == 201, r.text

    result = await asyncio.to_thread(CliRunner().invoke, cli, [
        "token", "--role", "province_admin", "--sub", "province", "--scope-prefix", one[:2]], env=cli_env(settings))
    assert result.exit_code == 0, result.output
    province = {"Authorization": f"Bearer {result.output.strip()}"}
    for _ in range(100):  # a rollup reads each county's read-models as they are: wait for the last writes
        r = await http.get("/api/v1/rollups", headers=province, params={"as_of": "2025-12-31"})
        assert r.status_code == 200, r.text
        report = r.json()
        seen = {c["county"]: c for c in report["counties"]}
        if seen.get(two, {}).get("rectification", {}).get("listed") and seen[one]["stars"]["members_rated"]:
            break
        await asyncio.sleep(0.1)
    assert report["prefix"] == one[:2] and report["as_of"] == "2025-12-31"
    rows = {c["county"]: c for c in report["counties"]}
    assert set(rows) >= {one, two} and all(c.startswith(one[:2]) for c in rows)
    first = rows[one]
    assert first["name"] == "海城区"
    assert first["coverage"] == {"in_scope": 2, "organized": 1, "organization_coverage_rate": 0.5, "unorganized": 1,
                                 "work_covered": 0, "work_coverage_rate": 0.0}
    assert first["rectification"] == {"listed": 1, "rectified": 1, "conversion_rate": 1.0}
    assert first["stars"]["members_rated"] == 1 and first["stars"]["members_by_stars"] == {"1": 1}
    assert rows[two]["rectification"] == {"listed": 1, "rectified": 0, "conversion_rate": 0.0}
    mine = [rows[one], rows[two]]
    total = report["total"]
    if set(rows) == {one, two}:  # alone under this prefix: the totals are exactly the two counties'
        assert total["rectification"] == {"listed": 2, "rectified": 1, "conversion_rate": 0.5}
        assert total["coverage"]["in_scope"] == 2 and total["stars"]["members_by_stars"] == {"1": 1}
    assert total["rectification"]["listed"] >= sum(c["rectification"]["listed"] for c in mine)

    # as of a date before the acceptance and the founding: nothing rectified, nothing organized
    r = await http.get("/api/v1/rollups", headers=province, params={"as_of": "2025-02-01", "prefix": one})
    assert r.status_code == 200, r.text
    early = r.json()
    assert [c["county"] for c in early["counties"]] == [one]
    assert early["counties"][0]["rectification"] == {"listed": 1, "rectified": 0, "conversion_rate": 0.0}
    assert early["counties"][0]["coverage"]["organized"] == 0

    # isolation: the province token reads no county endpoint; county tokens read no rollup; no wider prefix
    problem(await http.get(f"{base}/members", headers=province), 403)
    problem(await http.get("/api/v1/rollups", headers=admin), 403)
    problem(await http.get("/api/v1/rollups", headers=province, params={"prefix": "45"}), 403)
    narrow = token("province_admin", None, scope_prefix=two[:4] + "9")  # a prefix no county has
    r = await http.get("/api/v1/rollups", headers=narrow, params={"as_of": "2025-12-31"})
    assert r.status_code == 200 and r.json()["counties"] == [], r.text
