"""Bounded token lifetime and revocation: every gateway instance refuses a revoked subject's tokens
issued before the revocation (KV bucket watched by each gateway); the CLI revokes too."""
from __future__ import annotations

import asyncio
import time
from datetime import timedelta

from typer.testing import CliRunner

from services.cli import app as cli
from shared.auth import Actor, issue_token
from shared.revocations import RevocationList
from tests.conftest import connect_as, new_county


def bearer(settings, actor: Actor, ttl: timedelta = timedelta(hours=1)) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(settings.secret(), actor, ttl)}"}


async def add_county(http, settings) -> str:
    code = new_county()
    r = await http.post("/api/v1/counties", json={"county_code": code, "name": "撤销县"},
                        headers=bearer(settings, Actor(sub="root", role="platform_admin")))
    assert r.status_code == 201, r.text
    return code


async def test_a_revoked_users_tokens_are_refused_by_every_gateway(http, settings, nats_server, credentials):
    code = await add_county(http, settings)
    zhang = bearer(settings, Actor(sub="zhang", role="township_operator", county=code, township="t1"))
    admin = bearer(settings, Actor(sub="li", role="county_admin", county=code))
    assert (await http.get(f"/api/v1/counties/{code}/townships", headers=zhang)).status_code == 200
    r = await http.post(f"/api/v1/counties/{code}/token-revocations", json={"sub": "zhang"}, headers=zhang)
    assert r.status_code == 403  # a township operator may not revoke
    other = bearer(settings, Actor(sub="wang", role="county_admin", county=new_county()))
    assert (await http.post(f"/api/v1/counties/{code}/token-revocations", json={"sub": "zhang"},
                            headers=other)).status_code == 403
    r = await http.post(f"/api/v1/counties/{code}/token-revocations", json={"sub": "zhang"}, headers=admin)
    assert r.status_code == 201, r.text
    r = await http.get(f"/api/v1/counties/{code}/townships", headers=zhang)
    assert r.status_code == 401 and "revoked" in r.json()["detail"]
    # another gateway instance learns it from the bucket
    conn = await connect_as(nats_server, credentials, "gateway")
    elsewhere = RevocationList()
    try:
        await elsewhere.start(conn.jetstream())
        assert elsewhere.ready.is_set()
        assert elsewhere.revoked("zhang", code, time.time() - 5) and not elsewhere.revoked("zhang", new_county(), 0)
    finally:
        await elsewhere.stop()
        await conn.close()
    await asyncio.sleep(1.1)  # iat has whole seconds: a token of the next second is a new one
    fresh = bearer(settings, Actor(sub="zhang", role="township_operator", county=code, township="t1"))
    assert (await http.get(f"/api/v1/counties/{code}/townships", headers=fresh)).status_code == 200


async def test_the_cli_revokes_a_user_everywhere(http, settings, system, tmp_path):
    code = await add_county(http, settings)
    zhao = bearer(settings, Actor(sub="zhao", role="auditor", county=code))
    assert (await http.get(f"/api/v1/counties/{code}/townships", headers=zhao)).status_code == 200
    (tmp_path / "runtime.json").write_text(f'{{"nats_url": "{system.nats_url}"}}')
    result = await asyncio.to_thread(
        CliRunner().invoke, cli, ["revoke-tokens", "--sub", "zhao", "--data-dir", str(tmp_path)],
        env={"DANGJIAN_CREDENTIALS_DIR": str(settings.credentials_path)})
    assert result.exit_code == 0, result.output
    for _ in range(50):  # the gateway's watch delivers it within a moment
        r = await http.get(f"/api/v1/counties/{code}/townships", headers=zhao)
        if r.status_code == 401:
            break
        await asyncio.sleep(0.1)
    assert r.status_code == 401 and "revoked" in r.json()["detail"]


async def test_a_token_living_longer_than_the_maximum_is_refused(http, settings):
    code = await add_county(http, settings)
    actor = Actor(sub="long", role="county_admin", county=code)
    too_long = bearer(settings, actor, timedelta(hours=settings.jwt_max_ttl_hours + 1))
    r = await http.get(f"/api/v1/counties/{code}/townships", headers=too_long)
    assert r.status_code == 401 and "lifetime" in r.json()["detail"]
    ok = bearer(settings, actor, timedelta(hours=settings.jwt_max_ttl_hours))
    assert (await http.get(f"/api/v1/counties/{code}/townships", headers=ok)).status_code == 200
