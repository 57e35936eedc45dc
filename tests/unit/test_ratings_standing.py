"""党籍 as the ratings service reads it (services/ratings/standing.py): the standing on a day is the last
change on or before it; without a day, the latest change."""
from __future__ import annotations

from datetime import date

from services.ratings.standing import standing_on


def test_the_standing_on_a_day_is_the_last_change_on_or_before_it():
    changes = [(date(2026, 3, 1), 10, "suspended"), (date(2026, 6, 1), 20, "active"),
               (date(2026, 9, 1), 30, "deceased")]
    assert standing_on(changes, date(2026, 2, 28)) == ("active", None)
    assert standing_on(changes, date(2026, 3, 1)) == ("suspended", date(2026, 3, 1))
    assert standing_on(changes, date(2026, 8, 31)) == ("active", date(2026, 6, 1))
    assert standing_on(changes, date(2026, 12, 31)) == ("deceased", date(2026, 9, 1))
    assert standing_on(changes) == ("deceased", date(2026, 9, 1))
    assert standing_on(None) == standing_on([], date(2026, 1, 1)) == ("active", None)


def test_a_back_dated_change_recorded_later_is_ordered_by_its_date_but_the_latest_recorded_decides_now():
    changes = sorted([(date(2026, 5, 1), 40, "active"), (date(2026, 4, 1), 50, "suspended")])
    assert standing_on(changes, date(2026, 4, 15)) == ("suspended", date(2026, 4, 1))
    assert standing_on(changes, date(2026, 5, 2)) == ("active", date(2026, 5, 1))
    assert standing_on(changes) == ("suspended", date(2026, 4, 1))  # the last decision recorded
