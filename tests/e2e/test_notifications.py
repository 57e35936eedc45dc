"""Issue 10 over HTTP against the real services: a status change becomes a Chinese notification in the
live feed (SSE, filtered by scope, resumed with Last-Event-ID without loss or repetition) and in the
inbox (paged, unread counts, mark read); a rebuild issues nothing twice."""
from __future__ import annotations

import asyncio

from services.notifications.projections.feed import FeedProjection
from services.notifications.projections.rules_state import RulesStateProjection
from tests.e2e.sse_client import read_events
from services.organizations.enterprises.uscc import uscc_from_parts
from tests.e2e.test_http_campaigns import DIVISION, establish, new_county_with_townships


async def _inbox(http, base, headers, **params) -> dict:
    r = await http.get(f"{base}/notifications", headers=headers, params=params)
    assert r.status_code == 200, r.text
    return r.json()


async def _wait_inbox(http, base, headers, total: int) -> dict:
    for _ in range(200):
        box = await _inbox(http, base, headers)
        if box["total"] >= total:
            return box
        await asyncio.sleep(0.05)
    raise AssertionError(f"inbox never reached {total}: {box}")


async def test_status_changes_reach_the_live_feed_and_the_inbox_in_scope(http, token, system):
    code, admin = await new_county_with_townships(http, token, {"qiaogang": "侨港镇", "gaode": "高德街道"})
    base = f"/api/v1/counties/{code}"
    gaode = token("township_operator", code, township="gaode")
    started = [asyncio.Event(), asyncio.Event()]
    county_feed = asyncio.create_task(read_events(http, f"{base}/notifications/stream", admin, 3, started=started[0]))
    gaode_feed = asyncio.create_task(read_events(http, f"{base}/notifications/stream", gaode, 1, started=started[1]))
    await asyncio.gather(*(s.wait() for s in started))

    weak = await establish(http, code, admin, "侨港村党支部")
    other = await establish(http, code, admin, "高德社区党支部", township_id="gaode")
    r = await http.post(f"{base}/rectification-cases", headers=admin, json={
        "organization_id": weak, "campaign": "2026", "reasons": ["secretary_unfit"],
        "screened_on": "2026-01-10", "decided_on": "2026-01-20"})
    assert r.status_code == 201, r.text

    events = await county_feed
    by_kind = {e["data"]["kind"]: e for e in events}
    assert set(by_kind) == {"organization_founded", "organization_flagged_weak"}
    flagged = by_kind["organization_flagged_weak"]["data"]
    assert flagged["title"] == "侨港村党支部被列为软弱涣散党组织" and flagged["severity"] == "critical"
    assert flagged["township_id"] == "qiaogang" and flagged["link"] == f"{base}/rectification-cases/2026.{weak}"
    assert len(flagged["event_ids"]) == 1
    assert [e["id"] for e in events] == sorted(e["id"] for e in events)  # id = stream position, in order
    assert all(e["event"] == "notification" and e["id"] == e["data"]["seq"] for e in events)
    only_gaode = await gaode_feed  # a township operator sees their own township only
    assert [e["data"]["organization_id"] for e in only_gaode] == [other]

    # resume: a client that saw the first event gets exactly the two it missed, each once
    resumed = await read_events(http, f"{base}/notifications/stream",
                                {**admin, "Last-Event-ID": str(events[0]["id"])}, 2)
    assert [e["id"] for e in resumed] == [e["id"] for e in events[1:]]

    box = await _wait_inbox(http, base, admin, 3)
    assert box["unread"] == 3 and flagged["notification_id"] in {i["notification_id"] for i in box["items"]}
    assert [i["seq"] for i in box["items"]] == sorted((e["id"] for e in events), reverse=True)  # newest first
    assert (await _inbox(http, base, gaode))["total"] == 1
    r = await http.post(f"{base}/notifications/read", headers=admin, json={"notification_ids": [flagged["notification_id"]]})
    assert r.status_code == 200 and r.json()["unread"] == 2, r.text
    assert (await _inbox(http, base, gaode))["unread"] == 1  # read marks are per user
    page = await _inbox(http, base, admin, unread_only="true", size=1)
    assert page["total"] == 2 and len(page["items"]) == 1 and page["items"][0]["read"] is False
    r = await http.post(f"{base}/notifications/read", headers=admin, json={"all": True})
    assert r.json()["unread"] == 0

    # rebuilding both read-models decides every rule again: nothing is issued twice, marks survive
    svc = system.service("notifications")
    await svc.rebuild(code, RulesStateProjection)
    await svc.rebuild(code, FeedProjection)
    await asyncio.sleep(0.5)
    await svc.issuer.issue_pending(code)
    box = await _inbox(http, base, admin)
    assert box["total"] == 3 and box["unread"] == 0


async def test_the_feed_refuses_what_it_must(http, token):
    code, admin = await new_county_with_townships(http, token, {"qiaogang": "侨港镇"})
    r = await http.get(f"/api/v1/counties/{code}/notifications/stream")
    assert r.status_code == 401 and r.headers["content-type"].startswith("application/problem+json")
    other = token("county_admin", "110101")
    r = await http.get(f"/api/v1/counties/{code}/notifications/stream", headers=other)
    assert r.status_code == 403
    r = await http.get("/api/v1/counties/710101/notifications/stream", headers=token("county_admin", "710101"))
    assert r.status_code == 404 and r.json()["code"] == "county_not_found"
    r = await http.get(f"/api/v1/counties/{code}/notifications", headers=admin, params={"size": 1000})
    assert r.status_code == 422 and r.json()["errors"][0]["field"].endswith("size")


async def test_time_based_rules_run_on_demand_and_issue_each_period_once(http, token):
    code, admin = await new_county_with_townships(http, token, {"qiaogang": "侨港镇"})
    base = f"/api/v1/counties/{code}"
    org = await establish(http, code, admin, "侨港村党支部")  # no committee term recorded
    r = await http.post(f"{base}/rectification-cases", headers=admin, json={
        "organization_id": org, "campaign": "2026", "reasons": ["secretary_unfit"],
        "screened_on": "2026-01-10", "decided_on": "2026-01-20"})
    assert r.status_code == 201, r.text
    r = await http.post(f"{base}/rectification-cases/2026.{org}/plan", headers=admin, json={
        "plan": "一村一策：调整配强班子", "measures": ["调整书记"], "due_on": "2026-06-30"})
    assert r.status_code == 200, r.text
    r = await http.post(f"{base}/enterprises", headers=admin, json={
        "uscc": uscc_from_parts(DIVISION, "00007001"), "name": "北海市侨港海产品加工有限公司", "unit_type": "非公企业",
        "township_id": "qiaogang", "industry": "制造业", "employees": 45, "full_members": 3,
        "registered_on": "2026-01-15"})
    assert r.status_code == 201, r.text
    township = token("township_operator", code, township="qiaogang")
    r = await http.post(f"{base}/notification-rules/run", headers=township, json={})
    assert r.status_code == 403  # the county department's

    for _ in range(100):  # the rules' read-model folds the case and the unit
        r = await http.post(f"{base}/notification-rules/run", headers=admin, json={"as_of": "2026-07-20"})
        assert r.status_code == 200, r.text
        if r.json()["decided"] == 4:
            break
        await asyncio.sleep(0.1)
    assert r.json()["queued"] == 4
    box = await _wait_inbox(http, base, admin, 6)  # founded + flagged + the four due
    due = {i["kind"]: i for i in box["items"]}
    # founded in 2019 and no development candidate since: the branch is screened too (issue 12)
    assert {"term_missing", "rectification_overdue", "enterprise_unorganized", "branch_no_candidate"} <= set(due)
    assert due["rectification_overdue"]["title"] == "侨港村党支部整顿已逾期"
    assert due["enterprise_unorganized"]["township_id"] == "qiaogang"
    r = await http.post(f"{base}/notification-rules/run", headers=admin, json={"as_of": "2026-07-21"})
    assert r.json() == {"decided": 4, "queued": 0, "seq": 0}  # the same periods: nothing new
    r = await http.post(f"{base}/notification-rules/run", headers=admin, json={"as_of": "2026-08-01"})
    assert r.json()["queued"] == 1  # the second month overdue
