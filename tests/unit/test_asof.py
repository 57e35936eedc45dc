"""Bitemporal replay of a points handbook (pure): as of a business date, as known at a recorded time; a
revocation corrects the record from the moment it is recorded; the streaming fold the distribution uses
counts exactly what the full replay counts."""
from __future__ import annotations

from datetime import UTC, date, datetime

from services.ratings.asof import Knowledge, PointsFold, replay_book
from shared.catalog.ratings import MemberScored, ScoreRevoked
from shared.envelope import StoredEvent

SEQ = iter(range(1, 1000))


def stored(event, recorded: str) -> StoredEvent:
    seq = next(SEQ)
    env = {"event_id": f"e{seq}", "type": type(event).__name__, "recorded_at": recorded, "actor": "branch_secretary:wang"}
    return StoredEvent(seq, "pb.450503.evt.ratings.points.2025.member.zhang", env, event)


def scored(n: int, points: int, on: str, category: str = "lead_by_example") -> MemberScored:
    return MemberScored(score_id=f"s{n}", member_id="zhang", branch_id="qiaogang-village", year=2025,
                        category=category, points=points, reason="带头参与防汛抢险", evidence_ref=f"手册第{n}页",
                        occurred_on=date.fromisoformat(on), idempotency_key=f"k{n}")


LOG = [stored(scored(1, 4, "2025-06-10"), "2025-06-11T02:00:00Z"),
       stored(scored(2, 6, "2025-09-01", "harmony"), "2025-09-02T02:00:00Z"),
       stored(ScoreRevoked(score_id="s2", year=2025, rated_kind="member", rated_id="zhang", reason="复核不实"),
              "2026-01-20T02:00:00Z"),
       stored(scored(3, 5, "2025-12-20"), "2026-02-10T02:00:00Z")]


def at(as_of: str, known: str) -> Knowledge:
    return Knowledge(date.fromisoformat(as_of), datetime.fromisoformat(known).astimezone(UTC))


def test_as_known_on_award_day_the_late_score_is_missing_and_the_revoked_one_still_counts():
    book = replay_book(LOG, at("2025-12-31", "2026-01-15T23:59:59+08:00"))
    assert book.points_by_category() == {"lead_by_example": 4, "harmony": 6}
    harmony = next(e for e in book.entries if e["score_id"] == "s2")
    assert harmony["counted"] and harmony["revocation"]["known_then"] is False
    assert [e["score_id"] for e in book.entries] == ["s1", "s2"] and book.branch_id == "qiaogang-village"


def test_as_known_today_the_back_dated_score_counts_and_the_revoked_one_does_not():
    book = replay_book(LOG, at("2025-12-31", "2026-12-01T00:00:00Z"))
    assert book.points_by_category() == {"lead_by_example": 9}
    assert next(e for e in book.entries if e["score_id"] == "s2")["revoked"]


def test_a_business_date_before_a_score_leaves_it_out_but_lists_nothing_unknown():
    book = replay_book(LOG, at("2025-08-31", "2026-12-01T00:00:00Z"))
    assert book.points_by_category() == {"lead_by_example": 4}
    assert {e["score_id"]: e["effective"] for e in book.entries} == {"s1": True, "s2": False, "s3": False}


def test_the_whole_handbook_without_knowledge_lists_every_entry():
    book = replay_book(LOG, None)
    assert [(e["score_id"], e["revoked"]) for e in book.entries] == [("s1", False), ("s2", True), ("s3", False)]


def test_the_streaming_fold_counts_what_the_replay_counts():
    for k in (at("2025-12-31", "2026-01-15T23:59:59+08:00"), at("2025-12-31", "2026-12-01T00:00:00Z"),
              at("2025-08-31", "2026-12-01T00:00:00Z"), at("2025-12-31", "2025-01-01T00:00:00Z")):
        fold = PointsFold(k)
        for ev in LOG:
            fold.feed(ev)
        assert fold.points_by_category() == replay_book(LOG, k).points_by_category()
