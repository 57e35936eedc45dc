"""The `dangjian` command groups against the running system (over NATS, as an operator would): health,
score, verify, and the refusal of a bad rebuild. (Imports and exports: tests/e2e/test_http_campaigns.py.)"""
from __future__ import annotations

import asyncio
import json
import re

from typer.testing import CliRunner

from services.cli import app as cli
from tests.conftest import cli_env, cli_json
from tests.e2e.test_http_api import setup_county


async def test_health_score_verify_and_a_refused_rebuild(http, token, system, settings, tmp_path):
    code, admin, branches = await setup_county(http, token)
    r = await http.post(f"/api/v1/counties/{code}/members", headers=admin, json={
        "name": "李明", "gender": "男", "membership_status": "full", "joined_on": "2010-07-01", "branch_id": branches[0]})
    member = r.json()["member_id"]
    r = await http.put(f"/api/v1/counties/{code}/star-schemes/2026", headers=admin, json={"name": "方案", "preset": "532"})
    assert r.status_code == 200, r.text
    (tmp_path / "runtime.json").write_text(json.dumps({"nats_url": system.nats_url}))

    async def run(*args: str):
        return await asyncio.to_thread(CliRunner().invoke, cli, [*args, "--data-dir", str(tmp_path)],
                                       env=cli_env(settings))

    result = await run("health")
    assert result.exit_code == 0, result.output
    assert {"organizations", "ratings", "notifications"} <= set(result.output.split()) and "ratings.stars" in result.output
    result = await run("score", code, member, "--category", "member_corps", "--points", "3", "--reason", "带头捐款",
                       "--occurred-on", "2026-03-01", "--key", "cli-1")
    assert result.exit_code == 0 and "recorded" in result.output, result.output
    seq = re.search(r"\(seq (\d+)\)", result.output).group(1)  # the CLI's write, read back over HTTP
    r = await http.get(f"/api/v1/counties/{code}/members/{member}/rating", params={"year": 2026},
                       headers={**admin, "Dangjian-Min-Seq": seq})
    assert r.json()["points_by_category"]["member_corps"] == 3
    result = await run("verify", code)
    assert result.exit_code == 0 and "every signature, chain and sequence intact" in result.output, result.output
    result = await run("rebuild", code, "ratings.nothing")
    assert result.exit_code == 1 and "unknown_projection" in result.output, result.output
    result = await run("rebuild", code, "ratings.stars")  # long work: a job the CLI follows with a progress bar
    assert result.exit_code == 0 and f"rebuilt ratings.stars for {code}" in result.output, result.output
    result = await run("jobs", code)  # the rebuild's job, kept after the CLI stopped following it
    assert result.exit_code == 0 and re.search(r"ratings\.rebuild\s+succeeded", result.output), result.output
    job_id = next(line.split()[0] for line in result.output.splitlines() if "ratings.rebuild" in line)
    result = await run("jobs", code, job_id)
    assert result.exit_code == 0 and cli_json(result.output)["result"]["projection"] == "ratings.stars", result.output
