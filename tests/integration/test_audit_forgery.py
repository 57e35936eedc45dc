"""A forged event published straight to NATS by someone who may publish but holds no writer key (here the
operator's credential) is refused on every path that reads the log (issue 11 item 3): each live
projection that folds it stops for that county at its sequence, a rebuild refuses to swap, and as-of
answers read through wildcard reads of the log refuse too, and the gateway's live notification feed does
not push it. A leaked key is revoked by where each county's log stood, not by the recorded time the
thief writes into the event."""
from __future__ import annotations

import asyncio
import json
from datetime import date

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from services.cli import app as cli
from services.gateway.live import CountyFeed, LiveClient
from services.ratings.projections.stars import StarsProjection
from shared.archive import ArchiveProjection
from shared.auth import Actor
from shared.catalog.notifications import NotificationIssued
from shared.envelope import MalformedEvent, Metadata, seal, subject_for
from shared.eventstore import EventStore, county_subjects, stream_name
from shared.rebuild import rebuild_county
from shared.signing import SIGNED_FROM, EventKeys, Signer
from shared.verify import verify_county
from tests.conftest import cli_env, new_county
from tests.integration.scenario import make_county
from tests.integration.test_audit_log import raised
from tests.integration.test_rebuild import score

INSPECTOR = "inspector-wu"


async def stopped_at(runner, seq: int) -> None:
    for _ in range(200):
        if runner.error:
            break
        await asyncio.sleep(0.05)
    assert runner.error and runner.error[0] == seq and "not authentic" in runner.error[1], runner.status()


async def forge_onto(nc, county: str, member: str, signer: Signer) -> int:
    """Append a score on the member's points chain, linked correctly, signed by `signer`."""
    store = EventStore(nc)
    subject = subject_for(county, "ratings", "points", f"2026.member.{member}")
    last = (await store.load(county, subject))[-1]
    forged = seal(county, f"2026.member.{member}", raised(member), Metadata("ratings"), last.hash, signer=signer)
    return (await nc.jetstream().publish(subject, orjson.dumps(forged))).seq


async def test_a_forgery_stops_every_projection_that_reads_it_the_rebuild_and_the_as_of_answers(
        system, caller, nc, settings):
    c = await make_county(caller, branches=1, members_per_branch=2)
    await score(caller, c.code, "member", c.members[0], "member_corps", 2, "g0")
    thief = Signer("ratings", Ed25519PrivateKey.generate())
    thief.key_id = Signer.load(settings.credentials_path, "ratings").key_id  # claims the ratings key
    seq = await forge_onto(nc, c.code, c.members[0], thief)

    ratings, organizations = system.service("ratings"), system.service("organizations")
    await stopped_at(ratings.runners[("ratings.stars", c.code)], seq)               # live, ratings service
    await stopped_at(organizations.runners[(ArchiveProjection.name, c.code)], seq)  # live, the archive copy
    with pytest.raises(MalformedEvent, match=f"seq {seq}\\) is not authentic"):       # rebuild: nothing swapped
        await rebuild_county(ratings.nc, ratings.engine, StarsProjection, c.code, authenticator=ratings.host.authenticator)

    auditor = Actor(sub=INSPECTOR, role="auditor", county=c.code)
    for query, data in (("star_distribution_as_of", {"as_of": "2026-12-31"}),
                        ("rating_as_of", {"rated_kind": "member", "rated_id": c.members[0], "as_of": "2026-12-31"})):
        reply = await caller.qry(c.code, "ratings", query, data, actor=auditor)
        assert not reply["ok"] and reply["error"]["code"] == "poisoned_event", (query, reply)
        assert f"sequence {seq}" in reply["error"]["detail"], (query, reply)


async def test_a_revoked_key_is_refused_after_its_place_in_the_log_whatever_time_the_thief_writes(
        system, caller, nc, settings, tmp_path):
    c = await make_county(caller, branches=1, members_per_branch=2)
    await score(caller, c.code, "member", c.members[0], "member_corps", 2, "v0")
    leaked = Signer.load(settings.credentials_path, "ratings")  # a copy of the ratings key leaks
    (tmp_path / "runtime.json").write_text(json.dumps({"nats_url": system.nats_url}))
    result = await asyncio.to_thread(CliRunner().invoke, cli, ["audit", "rotate-key", "ratings", "--revoke",
                                                               "--data-dir", str(tmp_path)], env=cli_env(settings))
    assert result.exit_code == 0 and "retired and revoked" in result.output, result.output
    keys = EventKeys.load(settings.credentials_path)
    revoked_from = keys.entries[leaked.key_id]["revoked_from"][c.code]

    # the running ratings service signs with its new key without a restart, and that is accepted
    after = await score(caller, c.code, "member", c.members[1], "member_corps", 1, "v1")
    assert after["seq"] >= revoked_from
    # the thief's event claims to have been recorded long before the revocation
    leaked._follow = lambda: None  # (the thief's copy of the key does not follow the rotation)
    store = EventStore(nc)
    subject = subject_for(c.code, "ratings", "points", f"2026.member.{c.members[0]}")
    last = (await store.load(c.code, subject))[-1]
    env = seal(c.code, f"2026.member.{c.members[0]}", raised(c.members[0]), Metadata("ratings"), last.hash)
    del env["hash"]
    forged = leaked.sign({**env, "recorded_at": "2026-01-02T03:04:05Z", "occurred_at": "2026-01-02T03:04:05Z"})
    seq = (await nc.jetstream().publish(subject, orjson.dumps(forged))).seq

    report = await verify_county(store, c.code, keys)
    assert [(b.seq, b.kind) for b in report.breaks] == [(seq, "forged")], report.as_dict()
    assert f"refuses it from stream sequence {revoked_from}" in report.breaks[0].reason
    await stopped_at(system.service("ratings").runners[("ratings.stars", c.code)], seq)
    # revoke-key (compose: rotate, restart the writer, revoke) refuses a key still in use
    current = Signer.load(settings.credentials_path, "ratings").key_id
    result = await asyncio.to_thread(CliRunner().invoke, cli, ["audit", "revoke-key", current, "--data-dir",
                                                               str(tmp_path)], env=cli_env(settings))
    assert result.exit_code == 2 and "not a retired key" in result.output, result.output


async def test_the_live_notification_feed_pushes_only_what_a_writer_signed(nc, settings):
    # a county stream no service attaches (no announcement): only the gateway's feed reads it
    county, js = new_county(), nc.jetstream()
    await js.add_stream(name=stream_name(county), subjects=[county_subjects(county)], allow_direct=True,
                        metadata={SIGNED_FROM: "1"})
    feed = CountyFeed(js, county, settings.credentials_path)
    await feed.start()
    client = LiveClient(Actor(sub="admin", role="county_admin", county=county))
    feed.clients.add(client)
    try:
        thief = Signer("notifications", Ed25519PrivateKey.generate())
        thief.key_id = Signer.load(settings.credentials_path, "notifications").key_id  # claims the writer's key
        seqs = []
        for nid, signer in (("forged-1", thief), ("real-1", Signer.load(settings.credentials_path, "notifications"))):
            n = NotificationIssued(notification_id=nid, kind="organization_flagged_weak", severity="critical",
                                   title="侨港村党支部被列为软弱涣散党组织", summary=nid, link="/api/v1/x",
                                   occurred_on=date(2026, 6, 1))
            env = seal(county, nid, n, Metadata("notifications"), None, signer=signer)
            seqs.append((await js.publish(subject_for(county, "notifications", "notification", nid),
                                          orjson.dumps(env))).seq)
        seq, item = await asyncio.wait_for(client.queue.get(), 10)
        assert (seq, item["notification_id"]) == (seqs[1], "real-1") and client.queue.empty()
    finally:
        await feed.stop()
        await js.delete_stream(stream_name(county))
