"""Event signatures and the log verifier, without a broker: keys with ids and rotation, what each key may
sign, events from before signing, and the verifier naming each kind of break at its own sequence."""
from __future__ import annotations

from datetime import date

import orjson

from shared.canonical import chain_hash
from shared.catalog.organizations import TownshipAdded
from shared.catalog.ratings import MemberScored
from shared.envelope import Metadata, seal, subject_for
from shared import signing
from shared.authenticity import Authenticator
from shared.signing import EventKeys, Signer, ensure_writer_keys, revoke_key, rotate_writer_key
from shared.verify import verify_lines

COUNTY = "450503"


def keyring(tmp_path):
    ensure_writer_keys(tmp_path, ("organizations", "ratings"))
    return Signer.load(tmp_path, "organizations"), Signer.load(tmp_path, "ratings"), EventKeys.load(tmp_path)


def township(signer, tid="qiaogang", prev=None, name="侨港镇"):
    return seal(COUNTY, tid, TownshipAdded(township_id=tid, name=name), Metadata("county_admin:zhang"), prev,
                signer=signer)


def test_a_signed_event_checks_and_any_change_does_not(tmp_path):
    orgs, ratings, keys = keyring(tmp_path)
    env = township(orgs)
    assert env["key_id"].startswith("organizations-") and keys.check(env, 1, 1) is None
    assert "hash does not match" in keys.check({**env, "payload": {**env["payload"], "name": "伪造镇"}}, 1, 1)
    rehashed = township(None, name="伪造镇")  # a forger recomputes the hash but cannot sign it
    rehashed.update(key_id=env["key_id"], sig=env["sig"])
    rehashed["hash"] = chain_hash({k: v for k, v in rehashed.items() if k not in ("hash", "sig")})
    assert "does not verify" in keys.check(rehashed, 1, 1)
    by_ratings = township(ratings)  # the ratings key may not sign an organizations event
    assert "may not sign 'org'" in keys.check(by_ratings, 1, 1)


def test_unsigned_events_are_accepted_only_below_the_signing_mark(tmp_path):
    _, _, keys = keyring(tmp_path)
    old = township(None)
    assert keys.check(old, 41, signed_from=42) is None
    assert "unsigned" in keys.check(old, 42, signed_from=42)


def test_rotation_keeps_old_signatures_valid_and_revocation_goes_by_stream_sequence(tmp_path):
    orgs, _, _ = keyring(tmp_path)
    before = township(orgs)
    old, new = rotate_writer_key(tmp_path, "organizations")
    assert old == orgs.key_id and new != old and Signer.load(tmp_path, "organizations").key_id == new
    keys = EventKeys.load(tmp_path)
    assert keys.entries[old]["retired_at"] and not keys.entries[old]["revoked_at"]
    assert keys.check(before, 1, 1) is None and keys.check(township(orgs, "t2"), 1, 1) is None  # retired: valid
    leaked = Signer.load(tmp_path, "organizations")
    signed_before = township(leaked, "t3")  # stored at sequence 40 of the county's log
    rotate_writer_key(tmp_path, "organizations")
    revoke_key(tmp_path, new, {COUNTY: 41})  # the key leaked: revoked when the county's log stood at 40
    keys = EventKeys.load(tmp_path)
    assert keys.entries[new]["revoked_at"] and keys.check(signed_before, 40, 1) is None
    # the thief signs afterwards and dates the event back before the revocation: its place in the log tells
    backdated = township(None, "t4", name="伪造镇")
    del backdated["hash"]
    backdated = leaked.sign({**backdated, "recorded_at": "2020-01-01T00:00:00Z"})
    assert "refuses it from stream sequence 41" in keys.check(backdated, 41, 1)
    assert "nothing signed with it is accepted in county 450599" in keys.check(
        {**signed_before}, 3, 1, county="450599")  # a county added after the revocation
    assert keys.check(township(Signer.load(tmp_path, "organizations"), "t5"), 41, 1) is None


def test_a_running_writer_follows_its_rotated_key(tmp_path, monkeypatch):
    orgs, _, _ = keyring(tmp_path)
    first = orgs.key_id
    _, new = rotate_writer_key(tmp_path, "organizations")
    monkeypatch.setattr(signing, "RELOAD_S", 0.0)
    assert township(orgs)["key_id"] == new != first and EventKeys.load(tmp_path).check(township(orgs), 1, 1) is None


def test_the_verifier_names_each_break_at_its_own_sequence(tmp_path):
    orgs, ratings, keys = keyring(tmp_path)
    t1 = township(orgs, "t1")
    t1b = township(orgs, "t1", prev=t1["hash"], name="侨港镇（更名）")
    altered = {**t1b, "payload": {**t1b["payload"], "name": "被改"}}
    after = township(orgs, "t1", prev=t1b["hash"], name="侨港镇三")
    score = MemberScored(score_id="s1", member_id="zhang", year=2026, category="member_corps", points=10,
                         reason="伪造", occurred_on=date(2026, 5, 1), idempotency_key="k1")
    fake = Signer("ratings", orgs._key)
    fake.key_id = ratings.key_id  # claims the ratings key, signs with another one
    forged = seal(COUNTY, "2026.member.zhang", score, Metadata("x"), None, signer=fake)
    s_t1, s_t2 = subject_for(COUNTY, "org", "township", "t1"), subject_for(COUNTY, "org", "township", "t2")
    s_pts = subject_for(COUNTY, "ratings", "points", "2026.member.zhang")
    rows = [(1, s_t1, t1), (2, s_t1, altered), (3, s_t1, after), (5, s_t2, t1), (6, s_pts, forged), (7, s_t1, t1)]
    lines = [(seq, subj, orjson.dumps(env)) for seq, subj, env in rows] + [(8, s_t2, b"{broken")]
    report = verify_lines(lambda: iter(lines), COUNTY, keys, signed_from=1, last_seq=9)
    assert [(b.seq, b.kind) for b in report.breaks] == [
        (2, "altered"), (4, "gap"), (5, "misplaced"), (6, "forged"), (7, "chain"), (8, "unreadable"), (9, "truncated")]
    assert report.breaks[0].aggregate == "township/t1" and report.breaks[3].aggregate == "points/2026.member.zhang"
    clean = [(1, s_t1, orjson.dumps(t1)), (2, s_t1, orjson.dumps(t1b)), (3, s_t1, orjson.dumps(after))]
    assert verify_lines(lambda: iter(clean), COUNTY, keys, 1, 3).ok


def test_what_this_process_signed_is_trusted_but_not_a_signer_claiming_another_key(tmp_path):
    orgs, ratings, keys = keyring(tmp_path)
    score = MemberScored(score_id="s1", member_id="zhang", year=2026, category="member_corps", points=1,
                         reason="带头参加义务劳动", occurred_on=date(2026, 5, 1), idempotency_key="k1")
    own = seal(COUNTY, "2026.member.zhang", score, Metadata("ratings"), None, signer=ratings)
    assert keys.check(own, 1, 1) is None
    impostor = Signer("ratings", orgs._key)
    impostor.key_id = ratings.key_id
    claimed = seal(COUNTY, "2026.member.zhang", score, Metadata("ratings"), None, signer=impostor)
    assert "does not verify" in keys.check(claimed, 1, 1)


def test_a_reader_accepts_a_key_published_since_its_last_look(tmp_path):
    orgs, _, _ = keyring(tmp_path)
    auth = Authenticator(None, path=tmp_path)
    assert auth.check(COUNTY, 1, subject_for(COUNTY, "org", "township", "t1"), township(orgs, "t1")) is None
    rotate_writer_key(tmp_path, "organizations")  # within the reader's 1 s between looks at the key file
    fresh = township(Signer.load(tmp_path, "organizations"), "t2")
    assert auth.check(COUNTY, 2, subject_for(COUNTY, "org", "township", "t2"), fresh) is None
