"""Accounts through HTTP and the CLI: the first platform admin from `dangjian create-admin`, accounts
opened by admins, sign-in as a cookie session (CSRF on writes) or a bearer token, lockout after five
wrong passwords, reset, disable, password change and sign-out ending open sessions."""
from __future__ import annotations

import asyncio
import uuid

import httpx
from typer.testing import CliRunner

from services.cli import app as cli
from tests.conftest import cli_env, new_county


async def create_admin(settings, tmp_path, login: str, password: str):
    (tmp_path / "runtime.json").write_text(f'{{"nats_url": "{settings.nats_address}"}}')
    (tmp_path / "pw").write_text(password + "\n")
    return await asyncio.to_thread(CliRunner().invoke, cli, ["create-admin", login, "--password-file",
                                   str(tmp_path / "pw"), "--data-dir", str(tmp_path)], env=cli_env(settings))


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def signed_in(http, login: str, password: str) -> dict[str, str]:
    r = await http.post("/api/v1/tokens", json={"login": login, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


async def test_accounts_sessions_lockout_and_revocation(http, gateway, system, settings, tmp_path):
    root = unique("root")
    result = await create_admin(settings, tmp_path, root, "Pl@tform-2026")
    assert result.exit_code == 0, result.output
    assert "Pl@tform-2026" not in result.output
    admin = await signed_in(http, root, "Pl@tform-2026")
    code = new_county()
    assert (await http.post("/api/v1/counties", json={"county_code": code, "name": "账号县"}, headers=admin)).status_code == 201
    assert (await http.post(f"/api/v1/counties/{code}/townships", json={"township_id": "t1", "name": "一镇"},
                            headers=admin)).status_code == 201
    zhang = unique("zhang")
    r = await http.post(f"/api/v1/counties/{code}/accounts", headers=admin, json={
        "login": zhang, "name": "张书记", "role": "county_admin", "password": "Zhang-2026!"})
    assert r.status_code == 201, r.text
    assert "password_hash" not in r.text and r.json()["county"] == code
    r = await http.post(f"/api/v1/counties/{code}/accounts", headers=admin, json={
        "login": zhang, "name": "重名", "role": "auditor", "password": "whatever-123"})
    assert r.status_code == 409 and r.json()["code"] == "login_taken"

    # a browser session: HttpOnly cookie, writes need the CSRF token
    async with httpx.AsyncClient(base_url=gateway, timeout=30) as browser:
        r = await browser.post("/api/v1/session", json={"login": zhang.upper(), "password": "Zhang-2026!"})
        assert r.status_code == 200, r.text
        assert "httponly" in r.headers["set-cookie"].lower() and "samesite=strict" in r.headers["set-cookie"].lower()
        assert "token" not in r.json()
        csrf = r.json()["csrf_token"]
        assert (await browser.get(f"/api/v1/counties/{code}/townships")).status_code == 200
        body = {"login": unique("wang"), "name": "王操作员", "role": "township_operator", "township_id": "t9",
                "password": "Wang-2026!"}
        r = await browser.post(f"/api/v1/counties/{code}/accounts", json=body)
        assert r.status_code == 403 and "CSRF" in r.json()["detail"]
        r = await browser.post(f"/api/v1/counties/{code}/accounts", json=body, headers={"X-CSRF-Token": csrf})
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "township_id"  # no such township
        wang = body["login"]
        r = await browser.post(f"/api/v1/counties/{code}/accounts", json={**body, "township_id": "t1"},
                               headers={"X-CSRF-Token": csrf})
        assert r.status_code == 201, r.text
        r = await browser.get(f"/api/v1/counties/{new_county()}/townships")
        assert r.status_code == 403  # the session carries the account's county scope

        # five wrong passwords lock the account, even the right one is refused then
        statuses = [(await http.post("/api/v1/tokens", json={"login": wang, "password": f"wrong-{i}"})).status_code
                    for i in range(5)]
        assert statuses == [401, 401, 401, 401, 423]
        r = await http.post("/api/v1/tokens", json={"login": wang, "password": "Wang-2026!"})
        assert r.status_code == 423 and "锁定" in r.json()["detail"]
        r = await browser.post(f"/api/v1/counties/{code}/accounts/{wang}/password-reset",
                               json={"password": "Wang-new-2026"}, headers={"X-CSRF-Token": csrf})
        assert r.status_code == 200, r.text
        operator = await signed_in(http, wang, "Wang-new-2026")
        assert (await http.get(f"/api/v1/counties/{code}/townships", headers=operator)).status_code == 200
        r = await http.post(f"/api/v1/counties/{code}/accounts", headers=operator, json={**body, "login": unique("x")})
        assert r.status_code == 403  # a township operator opens no accounts

        # disabling ends the open session and refuses sign-in
        r = await browser.post(f"/api/v1/counties/{code}/accounts/{wang}/disable", json={"reason": "调离"},
                               headers={"X-CSRF-Token": csrf})
        assert r.status_code == 200 and r.json()["disabled"] is True
        assert (await http.get(f"/api/v1/counties/{code}/townships", headers=operator)).status_code == 401
        r = await http.post("/api/v1/tokens", json={"login": wang, "password": "Wang-new-2026"})
        assert r.status_code == 403 and r.json()["code"] == "account_disabled"

        # signing out ends the cookie session
        assert (await browser.request("DELETE", "/api/v1/session", headers={"X-CSRF-Token": csrf})).status_code == 200
        assert (await browser.get(f"/api/v1/counties/{code}/townships")).status_code == 401

    # a password change proves the current password and ends the old tokens
    before = await signed_in(http, zhang, "Zhang-2026!")
    r = await http.post("/api/v1/password", json={"login": zhang, "password": "nope-nope", "new_password": "Zhang-2027!"})
    assert r.status_code == 401
    r = await http.post("/api/v1/password", json={"login": zhang, "password": "Zhang-2026!", "new_password": "Zhang-2027!"})
    assert r.status_code == 200, r.text
    assert (await http.get(f"/api/v1/counties/{code}/townships", headers=before)).status_code == 401
    assert (await http.post("/api/v1/tokens", json={"login": zhang, "password": "Zhang-2026!"})).status_code == 401
    await signed_in(http, zhang, "Zhang-2027!")
    r = await http.post("/api/v1/tokens", json={"login": "nobody-here", "password": "x"})
    assert r.status_code == 401 and r.json()["detail"] == (await http.post(
        "/api/v1/tokens", json={"login": zhang, "password": "wrong-pw"})).json()["detail"]
