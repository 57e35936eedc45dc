"""A county log written before signing existed, in the old format (tests/fixtures/legacy_log.py: unsigned
envelopes, StarSchemeDefined v1), loaded into a stream as it was stored: after the upgrade's marking it
still rates, rebuilds and verifies the same; new events through the system are signed; an unsigned event
appended after the marking is refused (issue 11 items 3 and 6)."""
from __future__ import annotations

import asyncio
import json
from datetime import date

import orjson
import pytest
from nats.js.api import StreamConfig

from typer.testing import CliRunner

from services.cli import app as cli
from services.ratings.projections.stars import StarsProjection
from shared.authenticity import mark_unsigned_streams
from shared.catalog.ratings import MemberScored
from shared.envelope import Metadata, seal, subject_for
from shared.eventstore import EventStore, county_subjects, stream_name
from shared.messaging import COUNTY_ADDED
from shared.signing import EventKeys
from shared.verify import verify_county
from shared.auth import Actor
from tests.conftest import PLATFORM, Caller, cli_env, cli_json
from tests.fixtures import legacy_log
from tests.integration.scenario import expect_ok, snapshot

COUNTY, MEMBER = legacy_log.COUNTY, legacy_log.MEMBER


@pytest.fixture(scope="module")
async def legacy(system, nc) -> int:
    """The fixture log in a stream configured as before decision 016 (no signing mark), then the
    provisioner's upgrade step and the announcement that makes the services attach the county."""
    js = nc.jetstream()
    await js.add_stream(StreamConfig(name=stream_name(COUNTY), subjects=[county_subjects(COUNTY)], allow_direct=True,
                                     deny_delete=True, deny_purge=True))
    last = 0
    for subject, body in legacy_log.lines():
        last = (await js.publish(subject, body, stream=stream_name(COUNTY))).seq
    marked = await mark_unsigned_streams(js)
    assert marked[stream_name(COUNTY)] == last + 1
    await nc.publish(COUNTY_ADDED, COUNTY.encode())
    await rating(Caller(nc, PLATFORM), last)  # the services attached the county and folded its log
    return last


async def rating(caller, seq: int) -> dict:
    return expect_ok(await caller.qry(COUNTY, "ratings", "member_rating", {"member_id": MEMBER, "year": 2025},
                                      min_seq=seq))["data"]


INSPECTOR = Actor(sub="inspector-wu", role="auditor", county=COUNTY)  # 巡查组: reads only


async def as_of(caller, query: str, **data) -> dict:
    return expect_ok(await caller.qry(COUNTY, "ratings", query, data, actor=INSPECTOR))["data"]


def stars_of(answer: dict) -> dict:
    return {s["category"]: (s["points"], s["earned"]) for s in answer["stars"]}


async def test_2025_as_the_county_knew_it_on_award_day_and_as_known_today(caller, legacy):
    """The issue's example: a score back-dated into 2025 and recorded in February 2026 changes "2025 as known
    today" but not "2025 as known on 2026-01-15"; a revocation of 2026-01-20 likewise."""
    award_day = "2026-01-15T23:59:59+08:00"
    member = {"rated_kind": "member", "rated_id": MEMBER, "as_of": "2025-12-31"}
    then = await as_of(caller, "rating_as_of", **member, known_at=award_day)
    assert stars_of(then) == {"lead_by_example": (7, True), "harmony": (6, True)} and then["total_stars"] == 2, then
    harmony = next(p for p in then["provenance"] if p["category"] == "harmony")
    assert harmony["counted"] and harmony["evidence_ref"] == "手册第2页" and harmony["recorded_by"] == \
        "branch_secretary:wang"
    assert harmony["revocation"] == {"reason": "复核：纠纷调解记录不实", "known_then": False,
                                     "recorded_by": "county_admin:zhang", "recorded_at": "2026-01-20T02:00:00Z",
                                     "seq": 9, "event_id": "0190a000-0000-7000-8000-000000000009"}
    assert {p["score_id"] for p in then["provenance"]} == {"legacy-1", "legacy-2", "legacy-3"}  # not the late one
    assert then["scheme"]["version"] == 1 and then["scheme"]["recorded_by"] == "county_admin:zhang"

    now = await as_of(caller, "rating_as_of", **member)
    assert stars_of(now) == {"lead_by_example": (12, True), "harmony": (0, False)} and now["total_stars"] == 1, now
    mid_year = await as_of(caller, "rating_as_of", **{**member, "as_of": "2025-06-30"})
    assert stars_of(mid_year)["lead_by_example"] == (4, False) and mid_year["total_stars"] == 0

    then_dist = await as_of(caller, "star_distribution_as_of", as_of="2025-12-31", known_at=award_day,
                            township_id=legacy_log.TOWNSHIP)
    now_dist = await as_of(caller, "star_distribution_as_of", as_of="2025-12-31", branch_id=legacy_log.BRANCH)
    assert then_dist["members"]["by_stars"] == {"2": 1} and now_dist["members"]["by_stars"] == {"1": 1}
    assert then_dist["branches"][0]["branch_id"] == legacy_log.BRANCH
    other = await as_of(caller, "star_distribution_as_of", as_of="2025-12-31", branch_id="another-branch")
    assert other["members"]["rated"] == 0

    page1 = await as_of(caller, "score_history", rated_kind="member", rated_id=MEMBER, year=2025, page_size=3)
    page2 = await as_of(caller, "score_history", rated_kind="member", rated_id=MEMBER, year=2025, page=2, page_size=3)
    assert page1["total"] == 4 and [e["score_id"] for e in page1["items"] + page2["items"]] == \
        ["legacy-1", "legacy-2", "legacy-3", "legacy-4"]
    assert page1["items"][1]["revoked"] and page1["items"][1]["revocation"]["reason"].startswith("复核")
    known = await as_of(caller, "score_history", rated_kind="member", rated_id=MEMBER, year=2025, known_at=award_day)
    assert known["total"] == 3 and not known["items"][1]["revoked"]


async def test_the_cli_replays_as_an_auditor(system, settings, tmp_path, legacy):
    (tmp_path / "runtime.json").write_text(json.dumps({"nats_url": system.nats_url}))

    def run(*args: str):
        return CliRunner().invoke(cli, ["audit", *args, "--county", COUNTY, "--data-dir", str(tmp_path)],
                                  env=cli_env(settings))

    result = await asyncio.to_thread(run, "rating", "--member", MEMBER, "--as-of", "2025-12-31",
                                     "--known-at", "2026-01-15")
    assert result.exit_code == 0 and "2 stars" in result.output and "(later)" in result.output, result.output
    result = await asyncio.to_thread(run, "scores", "--member", MEMBER, "--year", "2025", "--json")
    assert result.exit_code == 0 and cli_json(result.stdout)["total"] >= 4, result.output
    result = await asyncio.to_thread(run, "distribution", "--as-of", "2025-12-31", "--known-at", "2026-01-15")
    assert result.exit_code == 0 and "members 1 rated {'2': 1}" in result.output, result.output
    result = await asyncio.to_thread(run, "rating", "--member", MEMBER, "--known-at", "yesterday")
    assert result.exit_code == 2 and "--known-at" in result.output


async def test_the_old_log_rates_rebuilds_and_verifies_unchanged(system, caller, nc, settings, legacy):
    shown = await rating(caller, legacy)
    stars = {s["category"]: (s["points"], s["colour"], s["earned"]) for s in shown["stars"]}
    # v1 scheme: earned from the red threshold (6); 4+3+5 lead_by_example, harmony's 6 revoked
    assert stars == {"lead_by_example": (12, "gold", True), "harmony": (0, None, False)}, shown
    assert shown["total_stars"] == 1

    keys = EventKeys.load(settings.credentials_path)
    report = await verify_county(EventStore(nc), COUNTY, keys)
    assert report.ok and report.before_signing == legacy and report.signed == 0, report.as_dict()

    ratings = system.service("ratings")
    before = snapshot(ratings.engine, ratings.projection(StarsProjection), COUNTY)
    expect_ok(await caller.cmd(COUNTY, "ratings", "rebuild", {"projection": "ratings.stars"}))
    assert snapshot(ratings.engine, ratings.projection(StarsProjection), COUNTY) == before

    # the system goes on writing, signed, on top of the old chain
    r = expect_ok(await caller.cmd(COUNTY, "ratings", "record_score", {
        "rated_kind": "member", "rated_id": MEMBER, "year": 2025, "category": "harmony", "points": 6,
        "reason": "调解邻里纠纷（复核后重录）", "occurred_on": "2025-12-01", "idempotency_key": "after-upgrade"}))
    assert (await rating(caller, r["seq"]))["total_stars"] == 2
    report = await verify_county(EventStore(nc), COUNTY, keys)
    assert report.ok and report.signed == 1 and report.before_signing == legacy, report.as_dict()

    # an unsigned event now is not "old": verify names it
    late = MemberScored(score_id="late", member_id="li-weidong", year=2025, category="harmony", points=10,
                        reason="旧格式的新事件", occurred_on=date(2025, 12, 2), idempotency_key="late")
    env = seal(COUNTY, "2025.member.li-weidong", late, Metadata("branch_secretary:wang"), None)
    forged = (await nc.jetstream().publish(subject_for(COUNTY, "ratings", "points", "2025.member.li-weidong"),
                                           orjson.dumps(env))).seq
    report = await verify_county(EventStore(nc), COUNTY, keys)
    assert [(b.seq, b.kind) for b in report.breaks] == [(forged, "unsigned")], report.as_dict()
    # and an as-of answer read from the log refuses it too (a wildcard read of the year's handbooks)
    reply = await caller.qry(COUNTY, "ratings", "star_distribution_as_of", {"as_of": "2025-12-31"}, actor=INSPECTOR)
    assert not reply["ok"] and f"sequence {forged}" in reply["error"]["detail"], reply
