"""Issue 12 item 2 meets the ratings (brief item 4): a member not in good standing (党籍异动 — deceased,
left, expelled, suspended) is not scored — a single score and a 积分表 entry are refused with a clear
409 naming `rated_id` — and leaves the star distribution from the change's effective date; a restored
member is scored and counted again. Over HTTP against the real services."""
from __future__ import annotations

from datetime import date, timedelta

from services.organizations.clock import today
from tests.e2e.test_http_campaigns import establish, new_county_with_townships, problem
from tests.e2e.test_http_membership import register

MIN_SEQ = "Dangjian-Min-Seq"


async def score(http, base: str, who: dict, member: str, key: str, year: int):
    return await http.post(f"{base}/members/{member}/scores", headers={**who, "Idempotency-Key": key}, json={
        "year": year, "category": "lead_by_example", "points": 10, "reason": "带头参与防汛抢险",
        "occurred_on": date(year, 1, 1).isoformat()})


async def distribution(http, base: str, who: dict, seq: int, year: int, as_of: date | None = None) -> dict:
    params = {"year": year, **({"as_of": as_of.isoformat()} if as_of else {})}
    r = await http.get(f"{base}/star-distribution", headers={**who, MIN_SEQ: str(seq)}, params=params)
    assert r.status_code == 200, r.text
    return r.json()


async def test_members_not_in_good_standing_are_not_scored_nor_counted(http, token):
    code, admin = await new_county_with_townships(http, token, {"qiaogang": "侨港镇"})
    base = f"/api/v1/counties/{code}"
    branch = await establish(http, code, admin, "侨港镇侨港村党支部")
    alive, deceased, suspended, expelled = await register(http, base, admin, branch, 4)
    day = today()
    year = day.year
    r = await http.put(f"{base}/star-schemes/{year}", headers=admin, json={"name": "党员星级管理", "preset": "beihai-5"})
    assert r.status_code in (200, 201), r.text
    for member in (alive, deceased, suspended, expelled):
        r = await score(http, base, admin, member, f"first-{member}", year)
        assert r.status_code in (200, 201), r.text
    seq = r.json()["seq"]
    assert (await distribution(http, base, admin, seq, year))["members"]["rated"] == 4

    changes = [(deceased, "deceased", "因病去世"), (suspended, "suspended", "连续六个月不参加党的组织生活"),
               (expelled, "expelled", "严重违纪")]
    for member, change, reason in changes:
        r = await http.post(f"{base}/members/{member}/standing-changes", headers=admin, json={
            "change": change, "changed_on": day.isoformat(), "reason": reason, "decided_by": "中共侨港镇委员会"})
        assert r.status_code == 200, r.text
        seq = r.json()["seq"]

    # from the changes' date on they leave the counts; the day before they are still there
    now = await distribution(http, base, admin, seq, year)
    assert now["members"]["rated"] == 1
    assert now["branches"][0]["members_rated"] == 1
    assert (await distribution(http, base, admin, seq, year, day - timedelta(days=1)))["members"]["rated"] == 4
    assert (await distribution(http, base, admin, seq, year, day))["members"]["rated"] == 1

    # no score for them, whoever records it; the member in good standing is scored as before
    secretary = token("branch_secretary", code, township="qiaogang", branch=branch)
    for member, change, _ in changes:
        body = problem(await score(http, base, secretary, member, f"late-{member}", year), 409)
        assert body["code"] == "member_not_in_good_standing" and change in body["detail"]
        assert [e["field"].rsplit(".", 1)[-1] for e in body["errors"]] == ["rated_id"]
    r = await score(http, base, secretary, alive, f"late-{alive}", year)
    assert r.status_code in (200, 201) and not r.json()["replayed"], r.text
    # a 积分表 batch refuses their entries only
    entries = [{"rated_kind": "member", "rated_id": m, "year": year, "category": "lead_by_example", "points": 5,
                "reason": "志愿服务", "occurred_on": date(year, 1, 2).isoformat(), "idempotency_key": f"batch-{m}"}
               for m in (alive, deceased)]
    r = await http.post(f"{base}/scores/batch", headers=admin, json={"scores": entries})
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert results[0]["ok"] and not results[1]["ok"]
    assert results[1]["error"]["code"] == "member_not_in_good_standing"

    # restored: scored and counted again from the restoration
    r = await http.post(f"{base}/members/{suspended}/standing-changes", headers=admin, json={
        "change": "restored", "changed_on": day.isoformat(), "reason": "经教育后恢复", "decided_by": "中共侨港镇委员会"})
    assert r.status_code == 200, r.text
    assert (await distribution(http, base, admin, r.json()["seq"], year))["members"]["rated"] == 2
    r = await score(http, base, admin, suspended, f"restored-{suspended}", year)
    assert r.status_code in (200, 201), r.text
