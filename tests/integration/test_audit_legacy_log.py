"""A county log written before signing existed, in the old format (tests/fixtures/legacy_log.py: unsigned
envelopes, StarSchemeDefined v1), loaded into a stream as it was stored: after the upgrade's marking it
still rates, rebuilds and verifies the same; new events through the system are signed; an unsigned event
appended after the marking is refused (issue 11 items 3 and 6)."""
from __future__ import annotations

from datetime import date

import orjson
import pytest
from nats.js.api import StreamConfig

from services.ratings.projections.stars import StarsProjection
from shared.authenticity import mark_unsigned_streams
from shared.catalog.ratings import MemberScored
from shared.envelope import Metadata, seal, subject_for
from shared.eventstore import EventStore, county_subjects, stream_name
from shared.messaging import COUNTY_ADDED
from shared.signing import EventKeys
from shared.verify import verify_county
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
    return last


async def rating(caller, seq: int) -> dict:
    return expect_ok(await caller.qry(COUNTY, "ratings", "member_rating", {"member_id": MEMBER, "year": 2025},
                                      min_seq=seq))["data"]


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
