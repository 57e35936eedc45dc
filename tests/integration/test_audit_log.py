"""A log nobody can forge without a writer key, and a verifier that names the damage (issue 11 items 3–5):
the attacks of the issue tried against a real nats-server — a forged score with a valid-looking chain, an
unsigned event, a copied event, garbage bytes, a deleted message, a deleted stream, an edited byte in an
export — each reported at its own sequence and aggregate; the projection refuses the forgery; the archive
copy and `dangjian audit compare`."""
from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime

import nats
import orjson
from nats.js.api import StreamConfig
from sqlalchemy import delete, update
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from services.cli import app as cli
from shared.archive import ArchiveProjection
from shared.catalog.organizations import TownshipAdded
from shared.catalog.ratings import MemberScored
from shared.envelope import Metadata, seal, subject_for
from shared.eventstore import EventStore, county_subjects, stream_name
from shared.natsserver import EmbeddedNats
from shared.signing import SIGNED_FROM, EventKeys, Signer
from shared.verify import verify_county
from tests.conftest import cli_env, cli_json, new_county
from tests.integration.scenario import expect_ok, make_county
from tests.integration.test_read_models_contract import register_unit
from tests.integration.test_rebuild import score


def raised(member: str, points: int = 10) -> MemberScored:
    return MemberScored(score_id=f"forged-{member}", member_id=member, year=2026, category="member_corps",
                        points=points, reason="伪造的积分", occurred_on=date(2026, 5, 1), idempotency_key=f"f-{member}")


async def test_a_forged_score_is_named_by_verify_refused_by_the_projection_and_by_the_writer(system, caller, nc,
                                                                                              settings, tmp_path):
    c = await make_county(caller, branches=1, members_per_branch=2)
    await score(caller, c.code, "member", c.members[0], "member_corps", 2, "a0")
    store, keys = EventStore(nc), EventKeys.load(settings.credentials_path)
    report = await verify_county(store, c.code, keys)
    assert report.ok and report.signed == report.checked > 5, report.as_dict()

    # the attack: someone who can publish to NATS appends a score on the member's chain, naming the
    # ratings key — signed with a key of their own, so the signature cannot verify
    subject = subject_for(c.code, "ratings", "points", f"2026.member.{c.members[0]}")
    last = (await store.load(c.code, subject))[-1]
    thief = Signer("ratings", Ed25519PrivateKey.generate())
    thief.key_id = Signer.load(settings.credentials_path, "ratings").key_id
    forged = seal(c.code, f"2026.member.{c.members[0]}", raised(c.members[0]), Metadata("ratings"), last.hash,
                  signer=thief)
    forged_seq = (await nc.jetstream().publish(subject, orjson.dumps(forged))).seq
    # and an unsigned one on the other member's (new) chain
    other = subject_for(c.code, "ratings", "points", f"2026.member.{c.members[1]}")
    unsigned = seal(c.code, f"2026.member.{c.members[1]}", raised(c.members[1]), Metadata("ratings"), None)
    unsigned_seq = (await nc.jetstream().publish(other, orjson.dumps(unsigned))).seq

    report = await verify_county(store, c.code, keys)
    assert [(b.seq, b.kind, b.aggregate) for b in report.breaks] == [
        (forged_seq, "forged", f"points/2026.member.{c.members[0]}"),
        (unsigned_seq, "unsigned", f"points/2026.member.{c.members[1]}")], report.as_dict()
    (tmp_path / "runtime.json").write_text(json.dumps({"nats_url": system.nats_url}))
    result = await asyncio.to_thread(CliRunner().invoke, cli, ["audit", "verify", "--county", c.code, "--data-dir",
                                                               str(tmp_path)], env=cli_env(settings))
    assert result.exit_code == 1, result.output
    assert f"seq {forged_seq} points/2026.member.{c.members[0]} [forged]" in result.output, result.output

    runner = system.service("ratings").runners[("ratings.stars", c.code)]
    for _ in range(100):
        if runner.error:
            break
        await asyncio.sleep(0.05)
    assert runner.error and runner.error[0] == forged_seq and "not authentic" in runner.error[1]
    assert runner.checkpoint == forged_seq - 1
    # the writer never continues a chain it cannot vouch for: a command on the member is refused, naming it
    reply = await caller.cmd(c.code, "ratings", "record_score", {
        "rated_kind": "member", "rated_id": c.members[0], "year": 2026, "category": "member_corps", "points": 1,
        "reason": "带头参加义务劳动", "occurred_on": "2026-06-02", "idempotency_key": "after-forgery"})
    assert not reply["ok"] and reply["error"]["code"] == "poisoned_event", reply
    assert f"sequence {forged_seq}" in reply["error"]["detail"]


async def test_verify_names_garbage_copies_altered_and_deleted_events_and_a_deleted_stream(nc, settings):
    county, store = new_county(), EventStore(nc)
    # a stream made by hand (e.g. restored from a backup) that lets its operator delete: JetStream refuses to
    # lift deny_delete from one dangjian created; on disk, damage can still lose a message
    await nc.jetstream().add_stream(StreamConfig(name=stream_name(county), subjects=[county_subjects(county)],
                                                 allow_direct=True, metadata={SIGNED_FROM: "1"}))
    signer, keys = Signer.load(settings.credentials_path, "organizations"), EventKeys.load(settings.credentials_path)
    envs = {}
    for t in ("t1", "t2", "t3"):
        envs[t] = seal(county, t, TownshipAdded(township_id=t, name=f"{t}镇"), Metadata("county_admin:li"), None,
                       signer=signer)
        await store.append(county, subject_for(county, "org", "township", t), [envs[t]], 0)
    assert (await verify_county(store, county, keys)).ok
    js = nc.jetstream()
    garbage = (await js.publish(subject_for(county, "org", "township", "t4"), b"\x00not an event")).seq
    copied = (await js.publish(subject_for(county, "org", "township", "t5"), orjson.dumps(envs["t1"]))).seq
    replayed = (await js.publish(subject_for(county, "org", "township", "t3"), orjson.dumps(envs["t3"]))).seq
    altered = {**envs["t2"], "payload": {**envs["t2"]["payload"], "name": "改过的镇"}, "prev_hash": envs["t2"]["hash"]}
    altered_seq = (await js.publish(subject_for(county, "org", "township", "t2"), orjson.dumps(altered))).seq
    await js.delete_msg(stream_name(county), 2)  # by someone holding the operator credential

    report = await verify_county(store, county, keys)
    kinds = [(b.seq, b.kind) for b in report.breaks]
    assert (2, "gap") in kinds and (garbage, "unreadable") in kinds and (altered_seq, "altered") in kinds, kinds
    assert (copied, "misplaced") in kinds and (replayed, "chain") in kinds, kinds
    assert next(b for b in report.breaks if b.kind == "altered").aggregate == "township/t2"

    await js.delete_stream(stream_name(county))
    report = await verify_county(store, county, keys)
    assert [b.kind for b in report.breaks] == ["stream_missing"]


async def test_export_verifies_offline_with_the_public_keys_and_names_an_edited_byte(system, caller, settings,
                                                                                     tmp_path):
    c = await make_county(caller, branches=1, members_per_branch=2)
    await score(caller, c.code, "member", c.members[0], "member_corps", 2, "e0")
    (tmp_path / "runtime.json").write_text(json.dumps({"nats_url": system.nats_url}))

    def run(*args: str):
        return CliRunner().invoke(cli, list(args), env=cli_env(settings))

    export = tmp_path / "log.jsonl"
    result = await asyncio.to_thread(run, "audit", "export", "--county", c.code, "--to", str(export),
                                     "--data-dir", str(tmp_path))
    assert result.exit_code == 0 and "manifest signed with audit-export-" in result.output, result.output
    assert export.stat().st_mode & 0o077 == 0  # members' records: the owner's only
    auditor = tmp_path / "auditor"  # offline: only the published public keys, no NATS, no secrets
    auditor.mkdir()
    (auditor / "event-keys.json").write_text((settings.credentials_path / "event-keys.json").read_text())
    offline = ("audit", "verify", "--file", str(export), "--keys", str(auditor / "event-keys.json"),
               "--data-dir", str(auditor))
    result = run(*offline)
    assert result.exit_code == 0 and "every signature, chain and sequence intact" in result.output, result.output

    lines = export.read_bytes().splitlines(keepends=True)
    n = next(i for i, line in enumerate(lines) if b'"type":"MemberScored"' in line)
    seq = orjson.loads(lines[n])["seq"]
    assert b'"points":2' in lines[n]
    lines[n] = lines[n].replace(b'"points":2', b'"points":9')  # one edited byte
    export.write_bytes(b"".join(lines))
    result = run(*offline, "--json")
    assert result.exit_code == 1
    report = cli_json(result.stdout)
    assert [(b["seq"], b["kind"]) for b in report["breaks"]] == [(seq, "altered"), (None, "manifest")], report
    assert report["breaks"][0]["aggregate"] == f"points/2026.member.{c.members[0]}"

    manifest = tmp_path / "log.jsonl.manifest.json"
    doc = json.loads(manifest.read_text())
    manifest.write_text(json.dumps({**doc, "count": doc["count"] - 1}))
    result = run(*offline)
    assert result.exit_code == 1 and "manifest's signature does not verify" in result.output, result.output


async def test_the_archive_keeps_a_second_copy_and_compare_names_each_difference(system, caller, settings, tmp_path):
    c = await make_county(caller, branches=1, members_per_branch=2)
    last = (await score(caller, c.code, "member", c.members[0], "member_corps", 2, "r0"))["seq"]
    (tmp_path / "runtime.json").write_text(json.dumps({"nats_url": system.nats_url}))

    def compare():
        return CliRunner().invoke(cli, ["audit", "compare", "--county", c.code, "--data-dir", str(tmp_path)],
                                  env=cli_env(settings))

    organizations = system.service("organizations")
    await organizations.caught_up(c.code, last, ArchiveProjection.name)
    result = await asyncio.to_thread(compare)
    assert result.exit_code == 0 and f"{last} events up to seq {last}, stream and archive agree" in result.output, \
        result.output
    table = organizations.projection(ArchiveProjection).events
    with organizations.engine.begin() as conn:  # the copy damaged: one row lost, one row altered
        conn.execute(delete(table).where(table.c.county == c.code, table.c.seq == 2))
        conn.execute(update(table).where(table.c.county == c.code, table.c.seq == last)
                     .values(envelope=table.c.envelope + " "))
        conn.execute(update(table).where(table.c.county == c.code, table.c.seq == 3)
                     .values(envelope='{"points": 99}'))
    result = await asyncio.to_thread(compare)
    assert result.exit_code == 1
    assert "seq 2 " in result.output and "[missing_in_archive]" in result.output, result.output
    assert "seq 3 " in result.output and "[different]" in result.output
    assert f"seq {last} " not in result.output  # the same JSON, only spaced differently: not a difference


async def test_coverage_as_known_at_a_recorded_time(system, caller):
    c = await make_county(caller, branches=1, members_per_branch=1, preset="")
    before = datetime.now(UTC)
    await asyncio.sleep(0.01)
    r = await register_unit(caller, c)  # registered on 2025-01-10 (business date), recorded now
    def in_scope(report: dict) -> int:
        return sum(row["in_scope"] for row in report["rows"] if row["dimension"] == "county")
    known_now = expect_ok(await caller.qry(c.code, "organizations", "coverage", {"as_of": "2025-12-31"},
                                           min_seq=r["seq"]))["data"]
    known_before = expect_ok(await caller.qry(c.code, "organizations", "coverage", {
        "as_of": "2025-12-31", "known_at": before.isoformat()}))["data"]
    assert in_scope(known_now) == 1 and in_scope(known_before) == 0, (known_now, known_before)


async def test_an_organizations_status_as_of_a_date_and_as_known_at_a_time(system, caller):
    c = await make_county(caller, branches=1, members_per_branch=1, preset="")
    org, approval = c.branches[0], {"approved_by": "中共侨港镇委员会", "approved_on": "2025-06-01"}
    before = datetime.now(UTC)
    await asyncio.sleep(0.01)
    expect_ok(await caller.cmd(c.code, "organizations", "rename_organization", {
        "organization_id": org, "new_name": "侨港镇第一村党总支", **approval}))
    expect_ok(await caller.cmd(c.code, "organizations", "classify_organization", {
        "organization_id": org, "year": 2025, "grade": "advanced", "classified_on": "2025-12-20", "items": {
            "good_leadership": True, "good_membership": True, "good_mechanisms": True, "good_performance": True,
            "good_public_response": True}}))

    async def status(**when) -> dict:
        return expect_ok(await caller.qry(c.code, "organizations", "organization_status_as_of",
                                          {"organization_id": org, **when}))["data"]

    end_2025 = await status(as_of="2025-12-31")
    assert end_2025["lifecycle"]["name"] == "侨港镇第一村党总支" and end_2025["lifecycle"]["status"] == "active"
    assert [(x["year"], x["grade"]) for x in end_2025["classifications"]] == [(2025, "advanced")]
    assert [p["type"] for p in end_2025["provenance"]] == ["OrganizationEstablished", "OrganizationRenamed",
                                                          "OrganizationClassified"]
    assert end_2025["provenance"][1]["business_date"] == "2025-06-01" and end_2025["provenance"][1]["recorded_by"]
    may_2025 = await status(as_of="2025-05-31")  # the renaming took effect on its approval date
    assert may_2025["lifecycle"]["name"] == "侨港镇第1村党支部" and not may_2025["classifications"]
    assert [p["counted"] for p in may_2025["provenance"]] == [True, False, False]
    known_before = await status(as_of="2025-12-31", known_at=before.isoformat())
    assert known_before["lifecycle"]["name"] == "侨港镇第1村党支部" and len(known_before["provenance"]) == 1


async def test_a_byte_edited_in_the_stored_log_is_named_at_its_sequence(settings, tmp_path):
    """The issue's second finding: a byte changed on disk. nats-server's block checksum drops the damaged
    message when it reloads the store; the verifier names that very sequence (not the aggregate's next event)."""
    county, signer = new_county(), Signer.load(settings.credentials_path, "organizations")
    server = EmbeddedNats(tmp_path / "nats").start()
    try:
        nc = await nats.connect(server.url)
        store = EventStore(nc)
        await store.add_county_stream(county)
        for i in range(8):
            env = seal(county, "t", TownshipAdded(township_id="t", name=f"第{i}镇"), Metadata("county_admin:li"),
                       env["hash"] if i else None, signer=signer)
            await store.append(county, subject_for(county, "org", "township", "t"), [env], i)
        await nc.close()
    finally:
        server.stop()
    [block] = (tmp_path / "nats").rglob("*.blk")
    data = bytearray(block.read_bytes())
    data[data.find("第5镇".encode()) + 3] ^= 0x01  # one bit of the sixth event's payload
    block.write_bytes(bytes(data))
    server = EmbeddedNats(tmp_path / "nats").start()
    try:
        nc = await nats.connect(server.url)
        report = await verify_county(EventStore(nc), county, EventKeys.load(settings.credentials_path))
        await nc.close()
    finally:
        server.stop()
    assert [(b.seq, b.kind) for b in report.breaks][:1] == [(6, "gap")], report.as_dict()


async def test_an_organizations_own_rating_as_of_a_date(system, caller):
    c = await make_county(caller, branches=1, members_per_branch=1)
    await score(caller, c.code, "organization", c.branches[0], "leadership_team", 10, "o1")  # occurred 2026-06-01

    async def rating(as_of: str) -> dict:
        return expect_ok(await caller.qry(c.code, "ratings", "rating_as_of", {
            "rated_kind": "organization", "rated_id": c.branches[0], "as_of": as_of}))["data"]

    june, may = await rating("2026-06-30"), await rating("2026-05-31")
    assert june["points_by_category"] == {"leadership_team": 10} and june["total_stars"] == 1, june
    assert june["branch_id"] == c.branches[0] and june["township_id"] == c.township and june["scheme"]["version"] == 2
    assert may["points_by_category"] == {} and may["total_stars"] == 0 and len(may["provenance"]) == 0
