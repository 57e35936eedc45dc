"""Large imports over HTTP answer 202 with a job; GET …/jobs/{id} shows its progress and, at the end, the
answer the synchronous import gives (or its refusal), to whoever may see it (shared/jobs.py)."""
from __future__ import annotations

import asyncio
import time

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


async def test_a_large_import_is_a_job_the_client_polls(http, token):
    code, admin, branches = await setup_county(http, token)
    base = f"/api/v1/counties/{code}"
    # over 1 MB (15,500 rows): answered 202 without being asked
    rows = [f"党员{i:05d},男,1980-01-02,正式党员,2001-07-01,侨港村党支部" for i in range(15_500)]
    big = (HEADER + "\n".join(rows) + "\n").encode()
    assert len(big) > 1024 * 1024
    r = await http.post(f"{base}/members/import", headers=admin, files={"file": ("members.csv", big, "text/csv")})
    assert r.status_code == 202, r.text
    started = r.json()
    assert r.headers["location"] == started["link"] == f"{base}/jobs/{started['job_id']}"
    job = await until_done(http, started["link"], admin, within_s=240)
    assert job["state"] == "succeeded", job
    assert job["kind"] == "organizations.import_members" and job["done"] == job["total"] == 15_500
    assert job["result"]["imported"] == 15_500 and job["seq"] > 0
    r = await http.get(f"{base}/members", headers={**admin, "Dangjian-Min-Seq": str(job["seq"])}, params={"limit": 1})
    assert r.json()["total"] == 15_500
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
