"""Issue 10's remaining rules and issue 12's reminders, over HTTP against the real services: probation due
and overdue (转正), a branch without development candidates for two years, a member away six months not
registered as mobile; an organization's stars crossing a boundary and leaving 一类, a member's stars
(opt-in), a coverage target falling below its goal (once per fall), and the unorganized-unit reminder
following the county's qualifying rule with its effective date."""
from __future__ import annotations

import asyncio
from datetime import timedelta

from services.notifications.conditions import add_months
from services.organizations.clock import today
from services.organizations.enterprises.uscc import uscc_from_parts
from tests.e2e.test_http_campaigns import DIVISION, establish, new_county_with_townships
from tests.e2e.test_http_development import admit, develop


async def _items(http, base, admin) -> list[dict]:
    r = await http.get(f"{base}/notifications", headers=admin, params={"size": 100})
    assert r.status_code == 200, r.text
    return r.json()["items"]


async def _until(http, base, admin, check, what: str) -> list[dict]:
    for _ in range(300):
        items = await _items(http, base, admin)
        if check(items):
            return items
        await asyncio.sleep(0.1)
    raise AssertionError(f"never happened: {what}: {[(i['kind'], i['title']) for i in items]}")


def _kinds(items: list[dict], kind: str) -> list[dict]:
    return [i for i in items if i["kind"] == kind]


async def test_member_reminders_probation_candidates_and_members_away(http, token):
    code, admin = await new_county_with_townships(http, token, {"qiaogang": "侨港镇"})
    base, day = f"/api/v1/counties/{code}", today()
    a = await establish(http, code, admin, "侨港村党支部")  # founded 2019, a candidate 22 months ago
    c = await establish(http, code, admin, "高德村党支部")  # founded 2019, no candidate ever
    huang = await develop(http, base, admin, a, "黄小燕", applied=add_months(day, -36), activist=add_months(day, -35),
                          candidate=add_months(day, -22))
    await admit(http, base, admin, huang, add_months(day, -12) + timedelta(days=20))  # ends in 20 days
    chen = await develop(http, base, admin, a, "陈志强", applied=add_months(day, -40), activist=add_months(day, -39),
                         candidate=add_months(day, -26))
    await admit(http, base, admin, chen, add_months(day, -13))  # ended a month ago, not decided
    r = await http.post(f"{base}/members", headers=admin, json={
        "name": "王海", "gender": "男", "birth_date": "1980-02-02", "membership_status": "正式党员",
        "joined_on": "2005-07-01", "branch_id": a})
    assert r.status_code == 201, r.text
    wang = r.json()["member_id"]
    r = await http.post(f"{base}/members/{wang}/away", headers=admin, json={
        "away_since": add_months(day, -7).isoformat(), "destination": "广东省深圳市"})
    assert r.status_code == 200, r.text

    want = {("probation_due", a), ("probation_overdue", a), ("branch_no_candidate", c),
            ("member_away_unregistered", a)}
    for _ in range(100):  # the rules' read-model folds the applicants and the away record
        r = await http.post(f"{base}/notification-rules/run", headers=admin, json={})
        assert r.status_code == 200, r.text
        items = await _items(http, base, admin)
        if want <= {(i["kind"], i["organization_id"]) for i in items}:
            break
        await asyncio.sleep(0.2)
    else:
        raise AssertionError(f"reminders missing: {[(i['kind'], i['organization_id']) for i in items]}")
    assert not [i for i in _kinds(items, "branch_no_candidate") if i["organization_id"] == a]  # 22 months: not yet
    [due] = _kinds(items, "probation_due")
    assert "黄小燕" in due["title"] and due["township_id"] == "qiaogang"
    assert "陈志强" in _kinds(items, "probation_overdue")[0]["title"]
    assert "王海" in _kinds(items, "member_away_unregistered")[0]["title"]
    r = await http.post(f"{base}/notification-rules/run", headers=admin, json={})
    assert r.json()["queued"] == 0  # the same periods: nothing issued twice


async def test_stars_coverage_and_the_qualifying_rule(http, token):
    code, admin = await new_county_with_townships(http, token, {"qiaogang": "侨港镇"})
    base = f"/api/v1/counties/{code}"
    org = await establish(http, code, admin, "侨港村党支部")
    r = await http.put(f"{base}/notification-rules", headers=admin, json={"effective_from": "2000-01-01",
                                                                        "member_stars": True})
    assert r.status_code == 200, r.text
    for kind, preset in (("organization", "532"), ("member", "beihai-5")):
        r = await http.put(f"{base}/star-schemes/2026", headers=admin, json={
            "name": f"2026年{kind}", "preset": preset, "rated_kind": kind})
        assert r.status_code in (200, 201), r.text
    categories = ["leadership_team", "member_corps", "rules_in_practice", "activity_venue", "public_satisfaction",
                  "economic_development", "village_governance", "serving_the_people"]
    for n, category in enumerate(categories):  # eight stars: 一类 under the 532 scheme
        r = await http.post(f"{base}/organizations/{org}/scores", headers={**admin, "Idempotency-Key": f"o{n}"}, json={
            "year": 2026, "category": category, "points": 10, "reason": "年度考评", "occurred_on": "2026-06-01"})
        assert r.status_code == 201, r.text
    r = await http.post(f"{base}/organizations/{org}/scores", headers={**admin, "Idempotency-Key": "down"}, json={
        "year": 2026, "category": "leadership_team", "points": -5, "reason": "班子问题整改不力", "occurred_on": "2026-07-01"})
    assert r.status_code == 201, r.text
    r = await http.post(f"{base}/members", headers=admin, json={
        "name": "李明", "gender": "男", "birth_date": "1980-02-02", "membership_status": "正式党员",
        "joined_on": "2005-07-01", "branch_id": org})
    member = r.json()["member_id"]
    r = await http.post(f"{base}/members/{member}/scores", headers={**admin, "Idempotency-Key": "m1"}, json={
        "year": 2026, "category": "lead_by_example", "points": 10, "reason": "抗台风转移群众", "occurred_on": "2026-07-20"})
    assert r.status_code == 201, r.text

    # coverage: the instructor target is met for one unit, then a second unorganized unit makes it fall
    units = []
    for n, (name, full) in enumerate((("甲海产品有限公司", 0), ("乙船舶修造有限公司", 1))):
        r = await http.post(f"{base}/enterprises", headers=admin, json={
            "uscc": uscc_from_parts(DIVISION, f"{9101 + n:08d}"), "name": name, "unit_type": "非公企业",
            "township_id": "qiaogang", "industry": "制造业", "employees": 45, "full_members": full,
            "registered_on": "2026-01-15"})
        assert r.status_code == 201, r.text
        units.append(r.json()["enterprise_id"])
        if n == 0:
            r = await http.post(f"{base}/enterprises/{units[0]}/instructor", headers=admin,
                                json={"person_name": "陈海生", "role": "党建指导员", "assigned_on": "2026-02-01"})
            assert r.status_code == 200, r.text

    items = await _until(http, base, admin, lambda items: len(_kinds(items, "organization_star_changed")) == 9
                         and _kinds(items, "member_star_changed")
                         and _kinds(items, "coverage_below_target") and _kinds(items, "organization_left_class_one"),
                         "stars and coverage")
    stars = sorted(i["title"] for i in _kinds(items, "organization_star_changed"))  # issued concurrently: any order
    assert stars == sorted([f"侨港村党支部2026年度星级升至{n}星" for n in range(1, 9)] + ["侨港村党支部2026年度星级降至7星"])
    [left] = _kinds(items, "organization_left_class_one")
    assert left["severity"] == "warning" and left["organization_id"] == org
    [mine] = _kinds(items, "member_star_changed")
    assert mine["title"].startswith("党员李明") and mine["township_id"] == "qiaogang"
    [fell] = _kinds(items, "coverage_below_target")
    assert "选派党建指导员" in fell["title"] and "1/2" in fell["summary"]

    # the county counts units with 1 full member or more as qualifying: only 乙 is reminded about
    r = await http.get(f"{base}/rules", headers=admin)
    table = r.json()["in_force"]
    r = await http.put(f"{base}/rules", headers=admin, json={**table, "effective_from": "2026-01-01",
                                                             "qualifying": {"min_full_members": 1}})
    assert r.status_code == 200, r.text
    r = await http.post(f"{base}/enterprises/{units[1]}/headcount", headers=admin, json={
        "employees": 46, "full_members": 1, "probationary_members": 0, "effective_on": "2026-03-01"})
    assert r.status_code == 200, r.text
    for _ in range(100):
        r = await http.post(f"{base}/notification-rules/run", headers=admin, json={"as_of": "2026-07-01"})
        items = await _items(http, base, admin)
        if _kinds(items, "enterprise_unorganized"):
            break
        await asyncio.sleep(0.2)
    assert [i["title"] for i in _kinds(items, "enterprise_unorganized")] == ["乙船舶修造有限公司具备组建条件仍未建立党组织"]
