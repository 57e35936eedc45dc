"""Issue 12 items 2 and 3 over HTTP against the real services: 党籍异动 changing the counts the
committee rule uses (a branch of 7 full members loses one and can no longer elect a committee), the
transitions and who may record them, the ledger and its workbook; mobile members (流动党员)."""
from __future__ import annotations

import io
from datetime import timedelta

from openpyxl import load_workbook

from services.organizations.clock import today
from services.organizations.lifecycle.elections import add_months
from tests.e2e.test_http_campaigns import establish, new_county_with_townships, problem


def iso(day) -> str:
    return day.isoformat()


async def register(http, base: str, admin: dict, branch: str, n: int) -> list[str]:
    ids = []
    for i in range(n):
        r = await http.post(f"{base}/members", headers=admin, json={
            "name": f"党员{i}", "gender": "男" if i % 2 else "女", "birth_date": "1980-05-01",
            "membership_status": "正式党员", "joined_on": "2005-07-01", "branch_id": branch})
        assert r.status_code == 201, r.text
        ids.append(r.json()["member_id"])
    return ids


async def test_standing_changes_change_the_counts_the_committee_rule_uses(http, token):
    code, admin = await new_county_with_townships(http, token, {"qiaogang": "侨港镇", "gaode": "高德街道"})
    base = f"/api/v1/counties/{code}"
    branch = await establish(http, code, admin, "侨港镇侨港村党支部")
    other = await establish(http, code, admin, "侨港镇海鲜街社区党支部")
    members = await register(http, base, admin, branch, 7)
    committee = [{"role": "secretary", "name": "党员0"}, {"role": "organization_officer", "name": "党员1"},
                 {"role": "publicity_officer", "name": "党员2"}]
    r = await http.post(f"{base}/organizations/{branch}/committee", headers=admin,
                        json={"elected_on": "2025-03-01", "committee": committee})
    assert r.status_code == 200 and r.json()["secretary_only"] is False, r.text  # 7 full members

    secretary = token("branch_secretary", code, township="qiaogang", branch=branch)
    change = {"changed_on": "2026-01-05", "reason": "因病去世", "decided_by": "侨港村党支部"}
    r = await http.post(f"{base}/members/{members[6]}/standing-changes", headers=secretary,
                        json={**change, "change": "deceased"})
    assert r.status_code == 200 and r.json()["standing"] == "deceased", r.text
    assert (await http.get(f"{base}/members/{members[6]}", headers=secretary)).json()["standing"] == "deceased"  # read-your-writes holds for the writer
    # six full members in good standing: the county's "must" rule refuses a committee now
    r = await http.post(f"{base}/organizations/{branch}/committee", headers=admin,
                        json={"elected_on": "2026-03-01", "committee": committee})
    assert problem(r, 422)["code"] == "committee_min_full_members"

    suspension = {**change, "change": "suspended", "reason": "连续六个月不参加党的组织生活", "decided_by": "中共侨港镇委员会"}
    problem(await http.post(f"{base}/members/{members[5]}/standing-changes", headers=secretary, json=suspension), 403)
    township = token("township_operator", code, township="qiaogang")
    r = await http.post(f"{base}/members/{members[5]}/standing-changes", headers=township, json=suspension)
    assert r.status_code == 200 and r.json()["standing"] == "suspended", r.text
    restore = {**suspension, "change": "restored", "changed_on": "2026-06-01", "reason": "经教育后恢复"}
    r = await http.post(f"{base}/members/{members[5]}/standing-changes", headers=township, json=restore)
    assert r.status_code == 200 and r.json()["standing"] == "active", r.text
    problem(await http.post(f"{base}/members/{members[5]}/standing-changes", headers=township, json=restore), 409)
    problem(await http.post(f"{base}/members/{members[6]}/standing-changes", headers=admin,
                            json={**change, "change": "left"}), 409)  # a deceased member's record is closed
    r = await http.post(f"{base}/members/{members[4]}/standing-changes", headers=admin,
                        json={**change, "change": "left", "changed_on": "2001-01-01"})
    assert problem(r, 422)["errors"][0]["field"] == "changed_on"  # before joining
    r = await http.post(f"{base}/members/{members[6]}/transfer", headers=admin,
                        json={"to_branch_id": other, "transferred_on": "2026-02-01"})
    assert problem(r, (409, 422))["code"] == "member_not_in_good_standing"

    r = await http.get(f"{base}/standing-changes", headers=admin)
    assert r.status_code == 200, r.text
    ledger = r.json()
    assert ledger["totals"] == {"deceased": 1, "left": 0, "expelled": 0, "suspended": 1, "restored": 1,
                                "cancelled": 0}
    assert [(i["name"], i["kind"]) for i in ledger["items"]] == [("党员6", "deceased"), ("党员5", "suspended"),
                                                                 ("党员5", "restored")]
    gaode = token("township_operator", code, township="gaode")
    assert (await http.get(f"{base}/standing-changes", headers=gaode)).json()["items"] == []
    r = await http.get(f"{base}/standing-changes.xlsx", headers=township)
    assert r.status_code == 200, r.text
    rows = list(load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True))
    assert [row[2] for row in rows[1:]] == ["去世", "停止党籍", "恢复党籍"]


async def test_mobile_members_by_destination_and_service_point(http, token):
    code, admin = await new_county_with_townships(http, token, {"qiaogang": "侨港镇", "gaode": "高德街道"})
    base = f"/api/v1/counties/{code}"
    a = await establish(http, code, admin, "侨港镇侨港村党支部")
    b = await establish(http, code, admin, "高德街道高德村党支部", township_id="gaode")
    m = await register(http, base, admin, a, 6)
    n = await register(http, base, admin, b, 1)
    day = today()

    r = await http.post(f"{base}/mobile-service-points", headers=admin, json={
        "service_point_id": "sz", "name": "银海区驻深圳流动党员服务站", "location": "广东省深圳市", "host": "深圳北海商会",
        "contact": "陈海 13800000000", "opened_on": "2024-03-01"})
    assert r.status_code == 201, r.text
    sheet = "站点名称,所在地,依托单位,联系人,设立日期\n银海区驻杭州流动党员服务站,浙江省杭州市,杭州广西商会,林芳 13900000000,2025-01-10\n"
    r = await http.post(f"{base}/mobile-service-points/import", headers=admin,
                        files={"file": ("站点.csv", sheet.encode("utf-8"), "text/csv")})
    assert r.status_code == 201 and r.json()["imported"] == 1, r.text
    hz = r.json()["service_point_ids"][0]
    r = await http.post(f"{base}/mobile-service-points/import", headers=admin,
                        files={"file": ("站点.csv", sheet.encode("utf-8"), "text/csv")})
    assert r.json()["imported"] == 0 and r.json()["already_registered"] == 1  # the same file again

    secretary = token("branch_secretary", code, township="qiaogang", branch=a)

    async def mobile(member: str, months: int, destination: str, who=secretary, **receiving) -> None:
        r = await http.post(f"{base}/members/{member}/mobile", headers=who, json={
            "away_since": iso(add_months(day, -months)), "destination": destination, "contact": "13700000000",
            "registered_on": iso(day), **receiving})
        assert r.status_code == 200 and r.json()["status"] == "mobile", r.text

    await mobile(m[0], 8, "广东省深圳市", service_point_id="sz")
    await mobile(m[1], 12, "广东省深圳市", receiving_organization="深圳市南山区粤海街道党工委")
    await mobile(m[2], 7, "浙江省杭州市", service_point_id=hz)
    await mobile(n[0], 9, "广东省深圳市", who=admin, service_point_id="sz")
    for member, months in ((m[3], 7), (m[4], 3)):
        r = await http.post(f"{base}/members/{member}/away", headers=secretary, json={
            "away_since": iso(add_months(day, -months)), "destination": "广西南宁市"})
        assert r.status_code == 200 and r.json()["status"] == "away", r.text
    await mobile(m[5], 6, "广东省广州市", receiving_organization="广州市天河区党工委")
    r = await http.post(f"{base}/members/{m[5]}/return", headers=secretary, json={"returned_on": iso(day)})
    assert r.status_code == 200 and r.json()["status"] == "returned", r.text

    # refusals: not away long enough, no receiving side, another branch's member, a closed point
    r = await http.post(f"{base}/members/{m[4]}/mobile", headers=secretary, json={
        "away_since": iso(add_months(day, -3)), "destination": "广西南宁市", "contact": "x", "registered_on": iso(day),
        "receiving_organization": "南宁市青秀区党工委"})
    assert problem(r, 422)["errors"][0]["field"] == "away_since"
    r = await http.post(f"{base}/members/{m[3]}/mobile", headers=secretary, json={
        "away_since": iso(add_months(day, -7)), "destination": "广西南宁市", "contact": "x", "registered_on": iso(day)})
    problem(r, 422)
    problem(await http.post(f"{base}/members/{n[0]}/return", headers=secretary, json={"returned_on": iso(day)}), 403)

    # the sending branch keeps the relationship (双重管理)
    assert (await http.get(f"{base}/members/{m[0]}", headers=admin)).json()["branch_id"] == a

    r = await http.get(f"{base}/mobile-figures", headers=admin)
    assert r.status_code == 200, r.text
    figures = r.json()
    assert figures["min_months_away"] == 6 and figures["mobile_members"] == 4
    assert figures["by_destination"] == [{"destination": "广东省深圳市", "members": 3},
                                         {"destination": "浙江省杭州市", "members": 1}]
    assert {p["service_point_id"]: p["members"] for p in figures["by_service_point"]} == {"sz": 2, hz: 1}
    assert [(x["member_id"], x["months_away"]) for x in figures["away_not_registered"]] == [(m[3], 7)]
    r = await http.get(f"{base}/mobile-figures", headers=token("township_operator", code, township="qiaogang"))
    assert r.json()["by_destination"] == [{"destination": "广东省深圳市", "members": 2},
                                          {"destination": "浙江省杭州市", "members": 1}]

    # a member who died is no longer counted
    r = await http.post(f"{base}/members/{m[1]}/standing-changes", headers=admin, json={
        "change": "deceased", "changed_on": iso(day), "reason": "因病去世", "decided_by": "侨港村党支部"})
    assert r.status_code == 200, r.text
    r = await http.get(f"{base}/mobile-figures", headers=admin)
    assert r.json()["mobile_members"] == 3
    # as of a date: the registrations were today, so yesterday only the departures were on record
    yesterday = (await http.get(f"{base}/mobile-figures", headers=admin,
                                params={"as_of": iso(day - timedelta(days=1))})).json()
    assert (yesterday["mobile_members"], yesterday["by_destination"]) == (0, [])
    assert [x["member_id"] for x in yesterday["away_not_registered"]] == [m[3]]
    as_of_today = (await http.get(f"{base}/mobile-figures", headers=admin, params={"as_of": iso(day)})).json()
    assert {k: v for k, v in as_of_today.items()} == r.json()  # the fold of the log equals the read-model

    r = await http.post(f"{base}/mobile-service-points/sz/closure", headers=admin, json={
        "closed_on": iso(day), "reason": "商会撤并"})
    assert r.status_code == 200, r.text
    r = await http.post(f"{base}/members/{m[3]}/mobile", headers=secretary, json={
        "away_since": iso(add_months(day, -7)), "destination": "广东省深圳市", "contact": "x",
        "registered_on": iso(day), "service_point_id": "sz"})
    problem(r, 409)

    r = await http.get(f"{base}/mobile-service-points", headers=admin)
    points = {p["service_point_id"]: p for p in r.json()["items"]}
    assert points["sz"]["closed_on"] == iso(day) and points["sz"]["members"] == 2 and points[hz]["members"] == 1
    r = await http.get(f"{base}/mobile-members.xlsx", headers=admin, params={"state": "mobile"})
    rows = list(load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True))
    assert sorted(row[7] for row in rows[1:]) == ["广东省深圳市", "广东省深圳市", "浙江省杭州市"]
    r = await http.get(f"{base}/mobile-service-points.xlsx", headers=admin)
    rows = list(load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True))
    assert sorted(row[1] for row in rows[1:]) == ["银海区驻杭州流动党员服务站", "银海区驻深圳流动党员服务站"]
