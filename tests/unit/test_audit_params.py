"""The audit replay's time parameters at the HTTP edge: `as_of` a business date, `known_at` a date (the end
of that day in China) or a date-time with its offset; anything else is a 422 naming the parameter, and
nothing reaches a service."""
from __future__ import annotations

import pytest

from tests.unit.gateway_support import COUNTY, assert_problem, fields, token

RATING = f"/api/v1/counties/{COUNTY}/audit/members/zhang-xiuling/rating"


@pytest.mark.parametrize("value", ["1700000000", "yesterday", "2026-01-15T10:00:00", "2026-02-30", "2026-1-5"])
def test_known_at_must_be_a_date_or_a_date_time_with_its_offset(http, fake, value):
    r = http.get(RATING, params={"as_of": "2025-12-31", "known_at": value}, headers=token(role="auditor"))
    assert "known_at" in " ".join(fields(assert_problem(r, 422, "invalid_input")))
    assert fake.calls == []


@pytest.mark.parametrize("value, sent", [("2026-01-15", "2026-01-15T23:59:59.999999+08:00"),
                                         ("2026-01-15T02:00:00Z", "2026-01-15T02:00:00+00:00"),
                                         ("2026-01-15T10:00:00+08:00", "2026-01-15T10:00:00+08:00")])
def test_known_at_is_passed_on_as_an_instant(http, fake, value, sent):
    fake.answer("qry", "rating_as_of", service="ratings", data={
        "rated_kind": "member", "rated_id": "zhang-xiuling", "year": 2025, "as_of": "2025-12-31", "known_at": sent,
        "branch_id": None, "township_id": None, "scheme": None, "points_by_category": {}, "stars": [],
        "total_stars": 0, "star_class": None, "total_points": 0, "provenance": []})
    r = http.get(RATING, params={"as_of": "2025-12-31", "known_at": value}, headers=token(role="auditor"))
    assert r.status_code == 200, r.text
    assert fake.last[1] == {"rated_kind": "member", "rated_id": "zhang-xiuling", "as_of": "2025-12-31",
                            "known_at": sent}


def test_score_history_pages_are_bounded(http, fake):
    r = http.get(f"/api/v1/counties/{COUNTY}/audit/members/zhang-xiuling/scores",
                 params={"year": 2025, "page_size": 501}, headers=token(role="auditor"))
    assert "page_size" in " ".join(fields(assert_problem(r, 422, "invalid_input")))


def test_the_event_keys_are_published_to_auditors(http, fake, tmp_path):
    from shared.signing import ensure_writer_keys
    ensure_writer_keys(http.app.state.event_keys_path, ("ratings",))
    r = http.get(f"/api/v1/counties/{COUNTY}/audit/event-keys", headers=token(role="auditor"))
    assert r.status_code == 200, r.text
    [(kid, key)] = r.json()["keys"].items()
    assert kid.startswith("ratings-") and key["writer"] == "ratings" and len(key["public_key"]) == 43
    assert fake.calls == []
