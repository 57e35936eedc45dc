"""Large imports over HTTP answer 202 with a job; GET …/jobs/{id} shows its progress and, at the end, the
answer the synchronous import gives (or its refusal), to whoever may see it (shared/jobs.py)."""
from __future__ import annotations

import asyncio
import time

from services.gateway import files
from tests.e2e.test_http_api import problem, setup_county

HEADER = "姓名,性别,出生日期,党员类型,入党日期,所在支部\n"


async def until_done(http, url: str, headers: dict, within_s: float = 60) -> dict:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        r = await http.get(url, headers=headers)
        assert r.status_code == 200, r.text
        if r.json()["state"] != "running":
            return r.json()
        await asyncio.sleep(0.1)
    raise AssertionError(f"{url} still running after {within_s} s")


async def test_a_large_import_is_a_job_the_client_polls(http, token, monkeypatch):
    code, admin, branches = await setup_county(http, token)
    base = f"/api/v1/counties/{code}"
    # "large" is over 1 MB (~15,000 rows); lowered here to keep the test's import small on a shared machine
    monkeypatch.setattr(files, "LARGE_IMPORT_BYTES", 64 * 1024)
    rows = [f"党员{i:05d},男,1980-01-02,正式党员,2001-07-01,侨港村党支部" for i in range(1_500)]
    big = (HEADER + "\n".join(rows) + "\n").encode()
    assert len(big) > files.LARGE_IMPORT_BYTES
    r = await http.post(f"{base}/members/import", headers=admin, files={"file": ("members.csv", big, "text/csv")})
    assert r.status_code == 202, r.text
    started = r.json()
    assert r.headers["location"] == started["link"] == f"{base}/jobs/{started['job_id']}"
    job = await until_done(http, started["link"], admin, within_s=120)
    assert job["state"] == "succeeded", job["error"]
    assert job["kind"] == "organizations.import_members" and job["done"] == job["total"] == 1_500
    assert job["result"]["imported"] == 1_500 and job["seq"] > 0
    r = await http.get(f"{base}/members", headers={**admin, "Dangjian-Min-Seq": str(job["seq"])}, params={"limit": 1})
    assert r.json()["total"] == 1_500
    listed = (await http.get(f"{base}/jobs", headers=admin)).json()["items"]
    assert [j["job_id"] for j in listed] == [started["job_id"]]


async def test_a_refused_job_and_who_sees_it(http, token):
    code, admin, branches = await setup_county(http, token)
    base = f"/api/v1/counties/{code}"
    operator = token("township_operator", code, township="qiaogang")
    csv = (HEADER + "陈建国,男,1970-01-02,正式党员,1995-07-01,不存在的支部\n").encode()
    r = await http.post(f"{base}/members/import", headers={**operator, "Prefer": "respond-async"},
                        files={"file": ("members.csv", csv, "text/csv")})
    assert r.status_code == 202, r.text
    link = r.json()["link"]
    job = await until_done(http, link, operator)
    assert job["state"] == "failed" and job["error"]["status"] == 422
    assert [e["field"] for e in job["error"]["errors"]] == ["row 2: branch_id"]
    assert (await until_done(http, link, admin))["job_id"] == job["job_id"]  # the county department sees it
    neighbour = token("township_operator", code, township="beihai")
    problem(await http.get(link, headers=neighbour), 403)
    assert (await http.get(f"{base}/jobs", headers=neighbour)).json()["items"] == []
    problem(await http.get(link, headers=token("county_admin", "450999")), 403)
    problem(await http.get(f"{base}/jobs/nosuchjob", headers=admin), 404)
    problem(await http.get(f"{base}/jobs/bad.id", headers=admin), 422)


async def test_a_score_sheet_import_as_a_job_offers_its_result_workbook(http, token):
    code, admin, branches = await setup_county(http, token)
    base = f"/api/v1/counties/{code}"
    r = await http.put(f"{base}/star-schemes/2026", headers=admin, json={"name": "方案", "preset": "532",
                                                                        "rated_kind": "organization"})
    assert r.status_code == 200, r.text
    sheet = ("对象类型,对象编号,年度,类别,分值,事由,发生日期,幂等键\n"
             f"党组织,{branches[0]},2026,leadership_team,3,班子分工明确,2026-05-01,s1\n"
             f"党组织,{branches[1]},2026,no_such_slot,3,班子分工明确,2026-05-01,s2\n")
    r = await http.post(f"{base}/scores/import", headers={**admin, "Prefer": "respond-async"},
                        files={"file": ("积分表.csv", sheet.encode(), "text/csv")})
    assert r.status_code == 202, r.text
    job = await until_done(http, r.headers["location"], admin)
    assert job["state"] == "succeeded" and job["kind"] == "gateway.import_scores", job
    assert (job["result"]["recorded"], job["result"]["refused"]) == (1, 1) and job["done"] == job["total"] == 2
    r = await http.get(job["result_link"], headers=admin)
    assert r.status_code == 200 and r.content[:2] == b"PK"  # the result workbook, refused row and reason in it
