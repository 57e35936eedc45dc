"""积分换星 over HTTP: a scheme defined now earns a star for every full points_per_star points (colours grade
the way there); a scheme an older version of the code wrote (StarSchemeDefined v1, raw in the log) keeps
earning from its red threshold after the upgrade; and a rebuild of the star read-model gives the live rows
for both (real NATS, real SQLite, the CLI's rebuild over NATS)."""
from __future__ import annotations

import asyncio
import json

from typer.testing import CliRunner

from services.cli import app as cli
from services.ratings.projections.stars import StarsProjection
from shared.canonical import GENESIS
from shared.envelope import iso, now_utc, subject_for
from shared.eventstore import EventStore
from shared.ids import new_id
from shared.signing import Signer
from tests.conftest import cli_env
from tests.e2e.test_http_api import setup_county
from tests.integration.scenario import snapshot

V1_SLOT = {"category": "lead_by_example", "name": "表率示范星", "kind": "common", "points_per_star": 10,
           "min_points": -10, "max_points": 10, "red": 6, "silver": 8, "gold": 10}


async def member_of(http, code, admin, branch) -> str:
    r = await http.post(f"/api/v1/counties/{code}/members", headers=admin, json={
        "name": "张秀玲", "gender": "女", "membership_status": "正式党员", "joined_on": "2001-07-01", "branch_id": branch})
    assert r.status_code == 201, r.text
    return r.json()["member_id"]


async def score(http, code, admin, member, points, key, category="lead_by_example") -> None:
    r = await http.post(f"/api/v1/counties/{code}/members/{member}/scores", headers={**admin, "Idempotency-Key": key},
                        json={"year": 2026, "category": category, "points": points, "reason": "抗台风转移群众",
                              "occurred_on": "2026-07-20"})
    assert r.status_code == 201, r.text


async def rating(http, code, admin, member) -> dict:
    r = await http.get(f"/api/v1/counties/{code}/members/{member}/rating", params={"year": 2026}, headers=admin)
    assert r.status_code == 200, r.text
    return r.json()


def star(rating_: dict, category: str = "lead_by_example") -> tuple:
    s = next(s for s in rating_["stars"] if s["category"] == category)
    return s["points"], s["colour"], s["earned"]


async def write_v1_scheme(nc, county: str, settings) -> int:
    """StarSchemeDefined as the code before earning thresholds wrote it: version 1, slots without earn_at
    (signed with the ratings key, as the stream is a new one; an unsigned old log: tests/integration/
    test_audit_legacy_log.py)."""
    now = now_utc()
    env = {"event_id": new_id(), "type": "StarSchemeDefined", "version": 1, "county": county, "context": "ratings",
           "aggregate_type": "scheme", "aggregate_id": "2026.member.county", "occurred_at": iso(now),
           "recorded_at": iso(now), "actor": "county_admin:before-the-upgrade", "correlation_id": new_id(),
           "causation_id": None, "prev_hash": GENESIS,
           "payload": {"year": 2026, "rated_kind": "member", "township_id": None, "name": "2026年党员评星（旧方案）",
                       "preset": None, "slots": [V1_SLOT], "class_one_min_stars": None}}
    Signer.load(settings.credentials_path, "ratings").sign(env)
    [stored] = await EventStore(nc).append(county, subject_for(county, "ratings", "scheme", "2026.member.county"),
                                           [env], 0)
    return stored.seq


async def rebuild_equals_live(system, settings, tmp_path, code: str) -> None:
    """`dangjian rebuild <county> ratings.stars` swaps in rows equal to the live ones."""
    ratings = system.service("ratings")
    live = snapshot(ratings.engine, ratings.projection(StarsProjection), code)
    (tmp_path / "runtime.json").write_text(json.dumps({"nats_url": system.nats_url}))
    result = await asyncio.to_thread(CliRunner().invoke, cli, ["rebuild", code, "ratings.stars",
                                                               "--data-dir", str(tmp_path)], env=cli_env(settings))
    assert result.exit_code == 0 and "rebuilt ratings.stars" in result.output, result.output
    assert snapshot(ratings.engine, ratings.projection(StarsProjection), code) == live
    assert live["ratings_stars"] and live["ratings_scheme"]


async def test_a_new_scheme_earns_a_star_at_its_full_points(http, token, system, settings, tmp_path):
    code, admin, branches = await setup_county(http, token)
    member = await member_of(http, code, admin, branches[0])
    r = await http.put(f"/api/v1/counties/{code}/star-schemes/2026", headers=admin,
                       json={"name": "2026年北海党员五星", "preset": "beihai-5"})
    assert r.status_code == 200, r.text
    r = await http.get(f"/api/v1/counties/{code}/star-schemes/2026", headers=admin)
    assert r.status_code == 200 and {s["earn_at"] for s in r.json()["slots"]} == {10}

    await score(http, code, admin, member, 6, "n-1")
    await score(http, code, admin, member, 8, "n-2", category="harmony")
    shown = await rating(http, code, admin, member)
    assert star(shown) == (6, "red", False) and star(shown, "harmony") == (8, "silver", False)
    assert shown["total_stars"] == 0  # 6 points used to light (and count) a red star
    await score(http, code, admin, member, 4, "n-3")
    shown = await rating(http, code, admin, member)
    assert star(shown) == (10, "gold", True) and shown["total_stars"] == 1
    r = await http.get(f"/api/v1/counties/{code}/star-distribution", params={"year": 2026}, headers=admin)
    assert r.json()["members"]["by_stars"] == {"1": 1}
    await rebuild_equals_live(system, settings, tmp_path, code)
    assert await rating(http, code, admin, member) == shown


async def test_a_scheme_defined_before_the_upgrade_keeps_its_stars(http, token, system, settings, nc, tmp_path):
    code, admin, branches = await setup_county(http, token)
    member = await member_of(http, code, admin, branches[0])
    seq = await write_v1_scheme(nc, code, settings)  # not through the gateway: the read names the sequence to wait for
    r = await http.get(f"/api/v1/counties/{code}/star-schemes/2026", headers={**admin, "Dangjian-Min-Seq": str(seq)})
    assert r.status_code == 200 and r.json()["slots"][0]["earn_at"] == 6  # upcast: earned from red, as before

    await score(http, code, admin, member, 6, "o-1")
    shown = await rating(http, code, admin, member)
    assert star(shown) == (6, "red", True) and shown["total_stars"] == 1
    await score(http, code, admin, member, 2, "o-2")
    shown = await rating(http, code, admin, member)
    assert star(shown) == (8, "silver", True) and shown["total_stars"] == 1
    await rebuild_equals_live(system, settings, tmp_path, code)
    assert await rating(http, code, admin, member) == shown
    result = await asyncio.to_thread(CliRunner().invoke, cli, ["verify", code, "--data-dir", str(tmp_path)],
                                     env=cli_env(settings))
    assert result.exit_code == 0, result.output  # the old event sits on the hash chain like any other
