"""Ratings domain rules: 张秀玲, member of 海景村党支部 in 银海区, scored through rating year 2026."""
from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from services.ratings.commands import DefineStarScheme, RecordScore, ReopenRatingYear
from services.ratings.domain import PointsBook, RatingYear, StarSchemeBook, points_aggregate_id, scheme_aggregate_id
from services.ratings.scheme import PRESETS, StarScheme
from shared.catalog.ratings import (MemberScored, OrganizationScored, RatingYearClosed, RatingYearReopened,
                                    ScoreRevoked, StarSchemeDefined)
from shared.errors import DomainError

ZHANG = "m-zhang-xiuling"
HAIJING_BRANCH = "org-yinhai-haijing-village"
TODAY = date(2026, 6, 18)


def fields(err: DomainError) -> list[str]:
    return [e.field for e in err.errors]


def beihai() -> StarScheme:
    return StarScheme(PRESETS["beihai-5"]())


def scheme_532() -> StarScheme:
    return StarScheme(PRESETS["532"](), class_one_min_stars=8)


def score(key: str = "2026-flood-duty", **over) -> RecordScore:
    data = dict(rated_kind="member", rated_id=ZHANG, year=2026, category="lead_by_example", points=5,
                reason="带头参与防汛抢险，连续值守三昼夜", evidence_ref="银海区防汛简报第12期",
                occurred_on=date(2026, 6, 2), idempotency_key=key)
    return RecordScore(**(data | over))


def book() -> PointsBook:
    return PointsBook(points_aggregate_id(2026, "member", ZHANG))


def record(pb: PointsBook, cmd: RecordScore, score_id: str = "s-1", *, scheme: StarScheme | None = None,
           year_is_open: bool = True, today: date = TODAY) -> list:
    events = pb.record(cmd, score_id=score_id, scheme=scheme if scheme is not None else beihai(),
                       year_is_open=year_is_open, today=today, branch_id=HAIJING_BRANCH)
    for ev in events:
        pb.apply(ev)
    return events


# ---- scheme books ------------------------------------------------------------------------------

def test_defining_with_532_preset_fills_slots_and_class_one_cut_of_eight():
    cmd = DefineStarScheme(year=2026, rated_kind="organization", township_id="yinhai-fucheng",
                           name="2026年村党组织星级化管理方案", preset="532")
    book_ = StarSchemeBook(scheme_aggregate_id(2026, "organization", "yinhai-fucheng"))
    [ev] = book_.define(cmd, year_is_open=True)
    assert isinstance(ev, StarSchemeDefined) and len(ev.slots) == 10 and ev.class_one_min_stars == 8
    book_.apply(ev)
    assert book_.exists and book_.scheme.class_one_min_stars == 8
    assert book_.id == "2026.organization.yinhai-fucheng"


def test_defining_a_scheme_in_a_closed_year_is_refused():
    cmd = DefineStarScheme(year=2026, name="银海区党员评星", preset="beihai-5")
    with pytest.raises(DomainError) as e:
        StarSchemeBook(scheme_aggregate_id(2026, "member", None)).define(cmd, year_is_open=False)
    assert (e.value.status, e.value.code) == (409, "rating_year_closed")
    assert "已关闭" in e.value.detail and "2026" in e.value.detail



# ---- recording scores --------------------------------------------------------------------------

def test_member_score_names_member_and_branch_and_counts_in_points_book():
    pb = book()
    [ev] = record(pb, score())
    assert isinstance(ev, MemberScored)
    assert (ev.member_id, ev.branch_id, ev.points, ev.reason) == (ZHANG, HAIJING_BRANCH, 5, "带头参与防汛抢险，连续值守三昼夜")
    record(pb, score("2026-deduction", points=-2, reason="无故缺席组织生活会"), "s-2")
    assert pb.exists and pb.points_by_category() == {"lead_by_example": 3}
    assert pb.score_for_key("2026-flood-duty") == "s-1"


def test_organization_score_names_the_organization_without_branch():
    pb = PointsBook(points_aggregate_id(2026, "organization", HAIJING_BRANCH))
    cmd = score(rated_kind="organization", rated_id=HAIJING_BRANCH, category="village_governance",
                reason="村务公开按季度上墙，群众无异议")
    [ev] = pb.record(cmd, score_id="s-9", scheme=scheme_532(), year_is_open=True, today=TODAY, branch_id=None)
    assert isinstance(ev, OrganizationScored) and ev.organization_id == HAIJING_BRANCH and ev.branch_id is None


def test_replaying_the_same_score_returns_no_events_and_the_first_score_id():
    pb = book()
    record(pb, score())
    assert record(pb, score(), "s-retry") == []
    assert pb.score_for_key("2026-flood-duty") == "s-1" and pb.points_by_category() == {"lead_by_example": 5}


def test_replay_is_accepted_even_after_the_year_closed():
    pb = book()
    record(pb, score())
    assert record(pb, score(), "s-retry", year_is_open=False) == []


def test_reusing_a_key_for_different_content_is_refused():
    pb = book()
    record(pb, score())
    with pytest.raises(DomainError) as e:
        record(pb, score(points=8), "s-2")
    assert (e.value.status, e.value.code) == (409, "idempotency_key_reused")


def _refusal(cmd: RecordScore, **kw) -> DomainError:
    with pytest.raises(DomainError) as e:
        record(book(), cmd, **kw)
    return e.value


def test_late_score_to_a_closed_year_is_refused():
    err = _refusal(score(), year_is_open=False)
    assert (err.status, err.code) == (409, "rating_year_closed")


def test_score_without_a_scheme_in_force_is_refused():
    pb = book()
    with pytest.raises(DomainError) as e:
        pb.record(score(), score_id="s-1", scheme=None, year_is_open=True, today=TODAY, branch_id=None)
    assert (e.value.status, e.value.code, fields(e.value)) == (422, "no_star_scheme", ["year"])


def test_category_outside_the_scheme_is_refused_listing_valid_ones():
    err = _refusal(score(category="daily_check_in"))
    assert (err.code, fields(err)) == ("category_not_in_scheme", ["category"])
    assert "lead_by_example" in err.detail and "industry_champion" in err.detail


@pytest.mark.parametrize("points", [11, -11])
def test_points_beyond_the_slot_bounds_are_refused(points):
    err = _refusal(score(points=points))
    assert (err.code, fields(err)) == ("points_out_of_bounds", ["points"])
    assert "-10" in err.detail and "10" in err.detail


@pytest.mark.parametrize("occurred_on,code", [(date(2026, 6, 19), "occurred_on_in_future"),
                                              (date(2025, 12, 31), "occurred_on_outside_year")])
def test_occurred_on_must_be_past_and_inside_the_year(occurred_on, code):
    err = _refusal(score(occurred_on=occurred_on))
    assert (err.code, fields(err)) == (code, ["occurred_on"])


def test_score_command_needs_a_reason_and_non_zero_points():
    with pytest.raises(ValidationError):
        score(reason="   ")
    with pytest.raises(ValidationError):
        score(points=0)
    assert score(reason="  扶贫帮困  ").reason == "扶贫帮困"


# ---- revoking scores ---------------------------------------------------------------------------

def test_revoking_a_score_removes_its_points():
    pb = book()
    record(pb, score())
    record(pb, score("2026-harmony", category="harmony", points=4, reason="调解邻里纠纷"), "s-2")
    [ev] = pb.revoke("s-1", "误录：应记入2025年度", year_is_open=True)
    assert isinstance(ev, ScoreRevoked)
    assert (ev.rated_kind, ev.rated_id, ev.year, ev.score_id) == ("member", ZHANG, 2026, "s-1")
    pb.apply(ev)
    assert pb.points_by_category() == {"harmony": 4}


def test_revocation_refusals():
    pb = book()
    record(pb, score())
    cases = [(lambda: pb.revoke("s-404", "误录", True), 404, "score_not_found"),
             (lambda: pb.revoke("s-1", "误录", False), 409, "rating_year_closed"),
             (lambda: pb.revoke("s-1", "  ", True), 422, "reason_required")]
    for call, status, code in cases:
        with pytest.raises(DomainError) as e:
            call()
        assert (e.value.status, e.value.code) == (status, code)
    pb.apply(pb.revoke("s-1", "误录", True)[0])
    with pytest.raises(DomainError) as e:
        pb.revoke("s-1", "误录", True)
    assert (e.value.status, e.value.code) == (409, "score_already_revoked")


# ---- rating year -------------------------------------------------------------------------------

def test_closing_and_reopening_a_rating_year():
    year = RatingYear("2026")
    year.check_year_is_open()
    [closed] = year.close("年度评定完成")
    assert isinstance(closed, RatingYearClosed) and closed.year == 2026 and not year.closed  # no mutation
    year.apply(closed)
    assert year.closed and year.exists
    with pytest.raises(DomainError) as e:
        year.check_year_is_open()
    assert (e.value.status, e.value.code) == (409, "rating_year_closed")
    assert e.value.detail.startswith("2026年度评星已关闭") and "rating year 2026 is closed" in e.value.detail
    with pytest.raises(DomainError) as e:
        year.close()
    assert (e.value.status, e.value.code) == (409, "rating_year_already_closed")
    [reopened] = year.reopen("  补录张秀玲防汛表现  ")
    assert isinstance(reopened, RatingYearReopened) and reopened.reason == "补录张秀玲防汛表现"
    year.apply(reopened)
    assert not year.closed


def test_reopening_needs_a_reason_and_a_closed_year():
    year = RatingYear("2026")
    with pytest.raises(DomainError) as e:
        year.reopen("补录")
    assert (e.value.status, e.value.code) == (409, "rating_year_not_closed")
    year.apply(year.close()[0])
    with pytest.raises(DomainError) as e:
        year.reopen("   ")
    assert (e.value.status, e.value.code, fields(e.value)) == (422, "reason_required", ["reason"])
    with pytest.raises(ValidationError):
        ReopenRatingYear(reason=" ")
