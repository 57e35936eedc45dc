"""The one-pass decode of projections and replays (shared/envelope.decode_wire) reads what the two-step
decode (parse_envelope, then decode_parsed) reads, and refuses what it refuses."""
from __future__ import annotations

from datetime import date

import orjson
import pytest

from services.ratings.scheme import PRESETS
from shared.catalog.organizations import MemberRegistered
from shared.catalog.ratings import MemberScored, StarSchemeDefined
from shared.envelope import MalformedEvent, Metadata, decode, decode_wire, seal

HANDLES = frozenset({"MemberScored", "StarSchemeDefined"})
META = Metadata(actor="township_operator:wang")
SCORED = MemberScored(score_id="s-1", member_id="zhang-xiuling", branch_id="qiaogang-village", year=2026,
                      category="lead_by_example", points=10, reason="带头参与防汛抢险", evidence_ref="会议记录-7",
                      occurred_on=date(2026, 7, 20), idempotency_key="2026-zxl-flood")


def sealed(event, **changes) -> dict:
    env = seal("450503", "2026-member-zhang-xiuling", event, META, None)
    env.update(changes)
    return env


def test_a_score_reads_as_the_two_step_decode_reads_it():
    data = orjson.dumps(sealed(SCORED))
    fast, slow = decode_wire(7, "pb.450503.evt.ratings.points.x", data, HANDLES), decode(7, "pb.450503.evt.ratings.points.x", data)
    assert fast.event == slow.event == SCORED
    assert (fast.seq, fast.subject, fast.type, fast.actor, fast.recorded_at, fast.occurred_at, fast.hash, fast.aggregate_id) \
        == (slow.seq, slow.subject, slow.type, slow.actor, slow.recorded_at, slow.occurred_at, slow.hash, slow.aggregate_id)
    assert fast.envelope["event_id"] == slow.envelope["event_id"]


def test_an_older_version_is_upcast():
    slots = [s.model_dump(mode="json", exclude={"earn_at"}) for s in PRESETS["532"]()]
    v1 = {"year": 2026, "rated_kind": "member", "township_id": None, "name": "2026年党员星级管理", "preset": "532",
          "slots": slots, "class_one_min_stars": 8}
    current = StarSchemeDefined.upcast(1, v1)
    env = sealed(StarSchemeDefined.model_validate(current), version=1, payload=v1)
    ev = decode_wire(3, "s", orjson.dumps(env), HANDLES)
    assert ev.event == decode(3, "s", orjson.dumps(env)).event
    assert all(slot.earn_at == slot.red for slot in ev.event.slots)  # v1 earned from red


def test_types_not_folded_or_unknown_are_skipped_after_their_envelope_is_checked():
    registered = MemberRegistered(member_id="m1", name="张秀玲", gender="female", birth_date=date(1980, 5, 1),
                                  membership_status="full", joined_on=date(2010, 7, 1), branch_id="b1")
    assert decode_wire(1, "s", orjson.dumps(sealed(registered)), HANDLES) is None
    assert decode_wire(1, "s", orjson.dumps(sealed(SCORED, type="SomethingNewer")), HANDLES) is None
    with pytest.raises(MalformedEvent, match="actor"):
        decode_wire(1, "s", orjson.dumps(sealed(registered, actor=None)), HANDLES)


@pytest.mark.parametrize("data, reason", [
    (b"{not json", "not JSON"),
    (b"[1, 2]", "envelope"),
    (orjson.dumps({k: v for k, v in sealed(SCORED).items() if k != "hash"}), "hash"),
    (orjson.dumps(sealed(SCORED, version="1")), "version"),
    (orjson.dumps(sealed(SCORED, payload=[1])), "payload"),
    (orjson.dumps(sealed(SCORED, payload={**SCORED.model_dump(mode="json"), "points": "many"})), "points"),
    (orjson.dumps(sealed(SCORED, payload={**SCORED.model_dump(mode="json"), "extra": 1})), "extra"),
    (orjson.dumps(sealed(SCORED, version=9)), "newer"),
])
def test_what_the_two_step_decode_refuses_is_refused(data, reason):
    with pytest.raises(MalformedEvent, match=reason):
        decode(1, "s", data)
    with pytest.raises(MalformedEvent, match=reason):
        decode_wire(1, "s", data, HANDLES)
