"""Long work as jobs (shared/jobs.py): a request with `as_job` is answered at once with a job id, the work
goes on, and its state, progress and result (or refusal) are in the job registry for whoever polls it.
Requests whose requester stopped waiting (deadline passed) get no answer (shared/deadline.py)."""
from __future__ import annotations

import asyncio
import base64
import time

import nats
import orjson
import pytest

from shared import jobs
from shared.auth import Actor
from shared.metrics import DROPPED, JOBS_ENDED
from tests.conftest import token_for
from tests.integration.scenario import expect_ok, make_county

ADMIN = Actor(sub="platform-admin", role="platform_admin")


async def send(nc, county: str, kind: str, service: str, name: str, data: dict, actor: Actor = ADMIN,
               timeout: float = 30, **envelope) -> dict:
    body = {"token": token_for(actor), "data": data, **envelope}
    msg = await nc.request(f"pb.{county}.{kind}.{service}.{name}", orjson.dumps(body), timeout=timeout)
    return orjson.loads(msg.data)


async def until_done(registry: jobs.JobRegistry, county: str, job_id: str, within_s: float = 60) -> list[dict]:
    """Every distinct record seen while polling, the last one no longer running."""
    seen, deadline = [], time.monotonic() + within_s
    while time.monotonic() < deadline:
        record = await registry.get(county, job_id)
        assert record is not None, "the job's record must exist from its first answer on"
        if not seen or record != seen[-1]:
            seen.append(record)
        if record["state"] != "running":
            return seen
        await asyncio.sleep(0.05)
    raise AssertionError(f"job {job_id} still running after {within_s} s: {seen[-1]}")


async def test_rebuild_as_a_job_answers_at_once_and_records_progress_and_result(system, nc, caller):
    c = await make_county(caller, branches=2, members_per_branch=20)
    for i, member in enumerate(c.members):
        expect_ok(await caller.cmd(c.code, "ratings", "record_score", {
            "rated_kind": "member", "rated_id": member, "year": 2026, "category": "member_corps", "points": 1 + i % 3,
            "reason": "带头参与防汛抢险", "occurred_on": "2026-06-01", "idempotency_key": f"k{i}"}))
    ended = JOBS_ENDED.labels("ratings.rebuild", "succeeded")._value.get()
    reply = expect_ok(await send(nc, c.code, "cmd", "ratings", "rebuild", {"projection": "ratings.stars"}, as_job=True))
    started = reply["data"]
    assert started["state"] == "running" and started["link"] == f"/api/v1/counties/{c.code}/jobs/{started['job_id']}"
    seen = await until_done(jobs.JobRegistry(nc.jetstream()), c.code, started["job_id"])
    end = seen[-1]
    assert end["state"] == "succeeded", end
    assert end["kind"] == "ratings.rebuild" and end["requested_by"] == "platform_admin:platform-admin"
    assert end["result"]["projection"] == "ratings.stars" and end["result"]["county"] == c.code
    # the progress came from the rebuild's replay: every event of the county stream, counted
    assert end["done"] == end["total"] == end["result"]["events"] > len(c.members)
    assert end["error"] is None and end["errors"] == 0
    assert JOBS_ENDED.labels("ratings.rebuild", "succeeded")._value.get() == ended + 1  # in the service's /metrics


async def test_a_refused_import_job_keeps_the_refusal_and_its_row_errors(system, nc, caller):
    c = await make_county(caller, branches=1, members_per_branch=0)
    rows = ["姓名,性别,出生日期,党员类型,入党日期,所在支部"]
    rows += [f"党员{i},男,1980-01-0{1 + i % 9},正式党员,2001-07-01,{c.branches[0]}" for i in range(30)]
    rows += ["坏行,男,1980-01-01,正式党员,2001-07-01,不存在的支部", f"坏行二,男,1980-01-01,正式党员,2031-07-01,{c.branches[0]}"]
    data = {"filename": "members.csv", "content_b64": base64.b64encode("\n".join(rows).encode()).decode()}
    started = expect_ok(await send(nc, c.code, "cmd", "organizations", "import_members", data, as_job=True))["data"]
    end = (await until_done(jobs.JobRegistry(nc.jetstream()), c.code, started["job_id"]))[-1]
    assert end["state"] == "failed" and end["result"] is None
    assert end["error"]["status"] == 422 and end["errors"] == len(end["error"]["errors"]) >= 2
    assert {e["field"].split(":")[0] for e in end["error"]["errors"]} == {"row 32", "row 33"}, end["error"]
    listed = expect_ok(await caller.qry(c.code, "organizations", "list_members", {}))["data"]
    assert listed["total"] == 0  # all or nothing, as when answered synchronously
    # the same file, corrected, succeeds as a job with the synchronous answer as its result
    data["content_b64"] = base64.b64encode("\n".join(rows[:-2]).encode()).decode()
    started = expect_ok(await send(nc, c.code, "cmd", "organizations", "import_members", data, as_job=True))["data"]
    end = (await until_done(jobs.JobRegistry(nc.jetstream()), c.code, started["job_id"]))[-1]
    assert end["state"] == "succeeded" and end["result"]["imported"] == 30 and end["seq"] > 0
    assert end["done"] == end["total"] == 30
    records = await jobs.JobRegistry(nc.jetstream()).list(c.code)
    assert [r["job_id"] for r in records][:2] == [started["job_id"], records[1]["job_id"]]
    assert [r["state"] for r in records] == ["succeeded", "failed"]  # newest first


async def test_as_job_is_refused_like_the_request_itself_and_ignored_where_no_job_is_declared(system, nc, caller):
    c = await make_county(caller, branches=1, members_per_branch=1)
    other = Actor(sub="elsewhere", role="county_admin", county="990101")
    reply = await send(nc, c.code, "cmd", "ratings", "rebuild", {"projection": "ratings.stars"}, actor=other,
                       as_job=True)
    assert not reply["ok"] and reply["error"]["status"] == 403  # no job is started for a token of another county
    assert await jobs.JobRegistry(nc.jetstream()).list(c.code) == []
    reply = expect_ok(await send(nc, c.code, "qry", "organizations", "list_members", {}, as_job=True))
    assert reply["data"]["total"] == 1  # a query is no job: answered as always


async def test_a_request_past_its_deadline_is_not_answered(system, nc, caller):
    c = await make_county(caller, branches=1, members_per_branch=0)
    before = DROPPED.labels("organizations", "qry", "list_townships", "queued")._value.get()
    with pytest.raises(nats.errors.TimeoutError):  # the requester gave up already: no late reply
        await send(nc, c.code, "qry", "organizations", "list_townships", {}, timeout=2, deadline=time.time() - 5)
    assert DROPPED.labels("organizations", "qry", "list_townships", "queued")._value.get() == before + 1
    reply = expect_ok(await send(nc, c.code, "qry", "organizations", "list_townships", {}, deadline=time.time() + 10))
    assert [t["township_id"] for t in reply["data"]["items"]] == [c.township]
