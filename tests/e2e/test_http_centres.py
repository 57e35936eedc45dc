"""党群服务中心 over HTTP against the real services: a district with 50 centres — county, township, village
and community levels plus one in an industrial park — imported from a spreadsheet and inspected, 49 of
them to standard (98%); coverage by level as of dates before and after the last one is brought to
standard; 挂牌, upgrade plans, the county's own standards, the exported registry, scopes and bad input."""
from __future__ import annotations

import asyncio
import io

from openpyxl import load_workbook

from tests.e2e.test_http_campaigns import new_county_with_townships, problem

TOWNSHIPS = {"qiaogang": "侨港镇", "gaode": "高德街道", "fumian": "福成镇", "yinhai": "银滩镇"}
VILLAGES, COMMUNITIES = 30, 14  # places: 1 county + 4 townships + 44 villages and communities = 49
# few connections at once: many idle pooled ones invite the keep-alive race (the server closes one as it is reused)
IN_FLIGHT = 4
ZONES, WINDOWS = "日常办公区、综合服务区、活动区、教育培训区", "党员服务、综合业务、帮办代办、咨询投诉"


async def bounded(calls):
    gate = asyncio.Semaphore(IN_FLIGHT)

    async def one(call):
        async with gate:
            return await call
    return await asyncio.gather(*(one(c) for c in calls))


async def establish_places(http, base: str, admin: dict) -> list[tuple[str, str, str]]:
    """(organization id, host unit type, township) of every village and community organization."""
    places = []
    for n in range(VILLAGES + COMMUNITIES):
        host = "village" if n < VILLAGES else "community"
        township = list(TOWNSHIPS)[n % 4]
        places.append((f"{host[0]}{n:02d}", host, township))

    async def one(oid: str, host: str, township: str) -> None:
        r = await http.post(f"{base}/organizations", headers=admin, json={
            "organization_id": oid, "name": f"{oid}{'村' if host == 'village' else '社区'}党支部",
            "organization_type": "branch", "host_unit_type": host, "township_id": township,
            "approved_by": "中共银海区委组织部", "approved_on": "2019-05-04"})
        assert r.status_code == 201, r.text
    await bounded([one(*p) for p in places])
    return places


def centre_sheet(places) -> bytes:
    lines = ["名称,类型,层级,乡镇,村社区党组织,面积（平方米）,功能区,服务窗口,标识,夜间可视,建成日期",
             f"银海区党群服务中心,中心,县级,,,1500,{ZONES},{WINDOWS},是,是,2024-01-10"]
    lines += [f"{name}党群服务中心,中心,乡镇,{tid},,600,{ZONES},{WINDOWS},是,是,2024-03-01" for tid, name in TOWNSHIPS.items()]
    for n, (oid, host, township) in enumerate(places):
        area = 150 if n == 0 else 320  # the first village's centre is too small
        lines.append(f"{oid}党群服务站,站,{'村' if host == 'village' else '社区'},{township},{oid},{area},{ZONES},{WINDOWS},"
                     f"是,是,2025-03-01")
    lines.append(f"工业园区党群服务中心,中心,园区,qiaogang,,400,{ZONES},{WINDOWS},是,否,2025-04-01")
    return "\n".join(lines).encode()


async def test_a_district_with_50_centres_49_to_standard(http, token):
    code, admin = await new_county_with_townships(http, token, TOWNSHIPS)
    base = f"/api/v1/counties/{code}"
    places = await establish_places(http, base, admin)
    r = await http.post(f"{base}/centres/import", headers=admin,
                        files={"file": ("党群服务中心.csv", centre_sheet(places), "text/csv")})
    assert r.status_code == 201, r.text
    assert (r.json()["imported"], r.json()["already_imported"]) == (50, 0)
    again = await http.post(f"{base}/centres/import", headers=admin,
                            files={"file": ("党群服务中心.csv", centre_sheet(places), "text/csv")})
    assert (again.json()["imported"], again.json()["already_imported"]) == (0, 50)
    centres = (await http.get(f"{base}/centres", headers=admin)).json()["items"]
    assert len(centres) == 50
    by_place = {c["organization_id"] or c["name"]: c["centre_id"] for c in centres}

    async def inspect(centre_id: str, on: str) -> dict:
        r = await http.post(f"{base}/centres/{centre_id}/inspections", headers=admin, json={
            "inspected_on": on, "inspected_by": "区委组织部核查组", "met": ["rules_displayed"]})
        assert r.status_code == 200, r.text
        return r.json()
    results = await bounded([inspect(c["centre_id"], "2025-06-01") for c in centres])
    assert sum(r["passed"] for r in results) == 49
    assert [r["missing"] for r in results if not r["passed"]] == [["floor_area"]]

    figures = (await http.get(f"{base}/centre-coverage", headers=admin, params={"as_of": "2025-06-30"})).json()
    assert figures["total"]["centres"] + figures["total"]["stations"] == 50
    assert (figures["total"]["to_standard"], figures["total"]["standard_rate"]) == (49, 0.98)
    rows = {r["level"]: r for r in figures["rows"]}
    assert (rows["village"]["places"], rows["village"]["covered"]) == (VILLAGES, VILLAGES - 1)
    assert (rows["township"]["coverage_rate"], rows["community"]["coverage_rate"], rows["park"]["places"]) == (1.0, 1.0, None)
    assert (figures["total"]["places"], figures["total"]["covered"]) == (49, 48) and not figures["target_met"]
    assert [(g["place_id"], g["reason"]) for g in figures["shortfall"]] == [("v00", "未达标：floor_area / not to standard")]

    # the small one is extended and inspected again: every place covered from that date on
    small = by_place["v00"]
    r = await http.post(f"{base}/centres/{small}/upgrades", headers=admin, json={
        "year": 2025, "kind": "提升改造", "items": ["扩建至260平方米"], "due_on": "2025-09-30", "planned_on": "2025-06-15"})
    assert r.status_code == 200, r.text
    r = await http.post(f"{base}/centres/{small}/facilities", headers=admin, json={
        "floor_area_m2": 260, "zones": ZONES.split("、"), "windows": WINDOWS.split("、"), "signage": True,
        "night_visible": True, "effective_on": "2025-08-20"})
    assert r.status_code == 200, r.text
    r = await http.post(f"{base}/centres/{small}/upgrade-progress", headers=admin, json={
        "year": 2025, "percent": 100, "note": "扩建完成", "reported_on": "2025-08-20"})
    assert r.status_code == 200, r.text
    assert (await inspect(small, "2025-09-01"))["passed"]
    r = await http.post(f"{base}/centres/{small}/plaque", headers=admin,
                        json={"plaqued_on": "2025-09-10", "approved_by": "中共银海区委组织部"})
    assert r.status_code == 200, r.text
    live = (await http.get(f"{base}/centre-coverage", headers=admin)).json()
    assert (live["total"]["to_standard"], live["total"]["coverage_rate"], live["target_met"]) == (50, 1.0, True)
    before = (await http.get(f"{base}/centre-coverage", headers=admin, params={"as_of": "2025-08-31"})).json()
    assert before["total"]["standard_rate"] == 0.98 and before["shortfall"][0]["place_id"] == "v00"
    upgrades = (await http.get(f"{base}/centre-upgrades", headers=admin, params={"year": 2025})).json()
    assert (upgrades["planned"], upgrades["done"], upgrades["items"][0]["items"]) == (1, 1, ["扩建至260平方米"])

    # read rules: a township operator's figures are their township's, a branch secretary gets none
    operator = token("township_operator", code, township="qiaogang")
    own = (await http.get(f"{base}/centre-coverage", headers=operator, params={"as_of": "2025-06-30"})).json()
    qiaogang = [p for p in places if p[2] == "qiaogang"]
    assert (own["total"]["places"], own["total"]["covered"]) == (1 + len(qiaogang), len(qiaogang))  # v00 is there
    assert {c["township_id"] for c in (await http.get(f"{base}/centres", headers=operator)).json()["items"]} == {
        "qiaogang"}
    problem(await http.get(f"{base}/centre-coverage", headers=token("branch_secretary", code, branch="v00")), 403)

    # the registry as Excel: every centre, with its last inspection and plaque
    r = await http.get(f"{base}/centres.xlsx", headers=admin)
    assert r.status_code == 200
    sheet = load_workbook(io.BytesIO(r.content)).active
    rows_ = list(sheet.iter_rows(min_row=2, values_only=True))
    header = [c.value for c in sheet[1]]
    assert len(rows_) == 50 and all(row[header.index("是否达标")] == "是" for row in rows_)
    assert sum(row[header.index("挂牌日期")] is not None for row in rows_) == 1
    village_rows = [row for row in rows_ if row[header.index("村社区党组织")] == "v00村党支部"]
    assert village_rows[0][header.index("面积")] == 260

    # 摘牌: the plaqued centre is found below standard again (rules no longer displayed) — the plaque comes off
    r = await http.post(f"{base}/centres/{small}/inspections", headers=admin, json={
        "inspected_on": "2025-11-01", "inspected_by": "区委组织部核查组", "met": []})
    assert r.status_code == 200 and r.json()["missing"] == ["rules_displayed"], r.text
    after = (await http.get(f"{base}/centre-coverage", headers=admin, params={"as_of": "2025-11-01"})).json()
    assert (after["total"]["to_standard"], after["total"]["plaqued"]) == (49, 0)
    assert (await http.get(f"{base}/centre-coverage", headers=admin,
                           params={"as_of": "2025-10-31"})).json()["total"]["plaqued"] == 1
    entry = next(c for c in (await http.get(f"{base}/centres", headers=admin)).json()["items"] if c["centre_id"] == small)
    assert entry["plaqued_on"] is None and not entry["to_standard"]

    # 撤销: the industrial park's centre is closed — it leaves the counts from that date, stays listed, marked
    park = by_place["工业园区党群服务中心"]
    closure = {"closed_on": "2025-12-01", "reason": "园区撤并", "decided_by": "中共银海区委组织部"}
    gaode = token("township_operator", code, township="gaode")
    problem(await http.post(f"{base}/centres/{park}/closure", headers=gaode, json=closure), 403)  # not theirs
    r = await http.post(f"{base}/centres/{park}/closure", headers=admin, json=closure)
    assert r.status_code == 200, r.text
    for day, count in (("2025-11-30", 50), ("2025-12-01", 49)):
        total = (await http.get(f"{base}/centre-coverage", headers=admin, params={"as_of": day})).json()["total"]
        assert total["centres"] + total["stations"] == count
    entry = next(c for c in (await http.get(f"{base}/centres", headers=admin)).json()["items"] if c["centre_id"] == park)
    assert (entry["closed_on"], entry["closed_reason"]) == ("2025-12-01", "园区撤并")
    r = await http.post(f"{base}/centres/{park}/inspections", headers=admin, json={
        "inspected_on": "2025-12-02", "inspected_by": "区委组织部核查组", "met": ["rules_displayed"]})
    assert problem(r, 409)["code"] == "centre_closed"
    problem(await http.post(f"{base}/centres/{park}/closure", headers=admin, json=closure), 409)


async def test_standards_scopes_and_bad_input(http, token):
    code, admin = await new_county_with_townships(http, token, {"qiaogang": "侨港镇", "gaode": "高德街道"})
    base = f"/api/v1/counties/{code}"
    standards = (await http.get(f"{base}/centre-standards", headers=admin)).json()["in_force"]
    stricter = {**standards, "effective_from": "2026-01-01", "coverage_target": 1.0,
                "levels": [{**s, "min_floor_area_m2": 700} if s["level"] == "township" else s
                           for s in standards["levels"]]}
    r = await http.put(f"{base}/centre-standards", headers=admin, json=stricter)
    assert r.status_code == 200, r.text
    r = await http.get(f"{base}/centre-standards", headers=admin, params={"as_of": "2026-02-01"})
    assert {s["level"]: s["min_floor_area_m2"] for s in r.json()["in_force"]["levels"]}["township"] == 700
    p = problem(await http.put(f"{base}/centre-standards", headers=admin,
                               json={**stricter, "levels": stricter["levels"][:2]}), 422)
    assert p["code"] == "centre_levels_missing"

    operator = token("township_operator", code, township="qiaogang")
    centre = {"name": "高德街道党群服务中心", "level": "乡镇", "township_id": "gaode", "floor_area_m2": 600,
              "opened_on": "2025-01-01"}
    problem(await http.post(f"{base}/centres", headers=operator, json=centre), 403)
    r = await http.post(f"{base}/centres", headers=operator, json={**centre, "township_id": "qiaogang",
                                                                   "name": "侨港镇党群服务中心"})
    assert r.status_code == 201, r.text
    centre_id = r.json()["centre_id"]
    problem(await http.post(f"{base}/centres/{centre_id}/inspections", headers=operator,
                            json={"inspected_on": "2025-06-01", "inspected_by": "自查"}), 403)
    p = problem(await http.post(f"{base}/centres", headers=admin, json={**centre, "level": "村庄"}), 422)
    assert "body.level" in {e["field"] for e in p["errors"]}
    p = problem(await http.post(f"{base}/centres", headers=admin, json={**centre, "level": "村"}), 422)
    assert {e["field"] for e in p["errors"]} == {"organization_id"}  # a domain refusal names its field
    p = problem(await http.post(f"{base}/centres/{centre_id}/plaque", headers=admin,
                                json={"plaqued_on": "2025-06-01", "approved_by": "区委组织部"}), 409)
    assert p["code"] == "centre_not_to_standard"
    other = token("county_admin", "450000" if code != "450000" else "450001")
    problem(await http.get(f"{base}/centres", headers=other), 403)
