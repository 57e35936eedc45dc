"""shared.db.bind_processor: SQLite's dates and timestamps formatted by the datetime's own C code must give
the very text SQLAlchemy's processors give, or rows written by a rebuild and by the live fold would differ."""
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import Date, DateTime, Integer
from sqlalchemy.dialects import postgresql, sqlite

from shared.db import bind_processor

VALUES = [datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 11, 22, 8, 30, 5, 123456, tzinfo=UTC),
          datetime(999, 12, 31, 23, 59, 59, 1), datetime(2026, 5, 6, 7, 8, 9, 120, tzinfo=timezone(timedelta(hours=8))),
          date(2026, 3, 4), date(5, 1, 1)]


@pytest.mark.parametrize("column_type", [DateTime(), DateTime(timezone=True), Date()], ids=repr)
@pytest.mark.parametrize("value", VALUES, ids=str)
def test_sqlite_dates_and_timestamps_are_formatted_as_sqlalchemy_does(column_type, value):
    dialect = sqlite.dialect()
    fast, reference = bind_processor(column_type, dialect), column_type._cached_bind_processor(dialect)
    assert fast is not reference
    assert fast(value) == reference(value)


def test_other_types_and_dialects_keep_their_own_processor():
    assert bind_processor(Integer(), sqlite.dialect()) is Integer()._cached_bind_processor(sqlite.dialect())
    pg = postgresql.dialect()
    column_type = DateTime(timezone=True)
    assert bind_processor(column_type, pg) is column_type._cached_bind_processor(pg)
