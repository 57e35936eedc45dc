"""The CLI's membership commands against the running system: the service point import (twice: nothing
twice), mobile figures and the probation list as tables."""
from __future__ import annotations

import asyncio
import json
from datetime import timedelta

from typer.testing import CliRunner

from services.cli import app as cli
from services.organizations.clock import today
from services.organizations.lifecycle.elections import add_months
from tests.conftest import cli_env
from tests.e2e.test_http_campaigns import establish, new_county_with_townships


async def test_service_point_import_mobile_figures_and_probations(http, token, system, settings, tmp_path):
    code, admin = await new_county_with_townships(http, token, {"qiaogang": "侨港镇"})
    base = f"/api/v1/counties/{code}"
    branch = await establish(http, code, admin, "侨港镇侨港村党支部")
    day = today()
    r = await http.post(f"{base}/members", headers=admin, json={
        "name": "周海燕", "gender": "女", "membership_status": "预备党员", "branch_id": branch,
        "joined_on": (add_months(day, -12) + timedelta(days=5)).isoformat()})
    assert r.status_code == 201, r.text
    member = r.json()["member_id"]
    (tmp_path / "runtime.json").write_text(json.dumps({"nats_url": system.nats_url}))
    sheet = tmp_path / "站点.csv"
    sheet.write_text("站点名称,所在地,依托单位,联系人,设立日期\n银海区驻深圳流动党员服务站,广东省深圳市,深圳北海商会,陈海,2024-03-01\n",
                     encoding="utf-8")

    async def run(*args: str):
        return await asyncio.to_thread(CliRunner().invoke, cli, [*args, "--data-dir", str(tmp_path)],
                                       env=cli_env(settings))

    result = await run("import-service-points", code, str(sheet))
    assert result.exit_code == 0 and "imported 1 service point(s)" in result.output, result.output
    result = await run("import-service-points", code, str(sheet))
    assert "imported 0 service point(s), 1 already registered" in result.output, result.output
    points = (await http.get(f"{base}/mobile-service-points", headers=admin)).json()["items"]
    r = await http.post(f"{base}/members/{member}/mobile", headers=admin, json={
        "away_since": add_months(day, -7).isoformat(), "destination": "广东省深圳市", "contact": "13700000000",
        "service_point_id": points[0]["service_point_id"], "registered_on": day.isoformat()})
    assert r.status_code == 200, r.text
    result = await run("mobile-figures", code)
    assert result.exit_code == 0 and "mobile members of" in result.output and "广东省深圳市" in result.output, result.output
    result = await run("probation-due", code)
    assert result.exit_code == 0 and "周海燕" in result.output and "即将届满" in result.output, result.output
