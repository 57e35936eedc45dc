"""The ratings directory's placements (services/ratings/directory.py) against a real SQLite file: an answer is
never assembled from two moments of the read-model."""
import asyncio

import pytest
from sqlalchemy import event

from services.ratings.directory import DirectoryReader
from services.ratings.projections.stars import StarsProjection
from shared.db import insert_rows, make_engine

COUNTY = "450503"


@pytest.fixture
def directory(tmp_path):
    """The ratings directory tables in a real SQLite file, with branch b1 of township t1."""
    p = StarsProjection()
    engine = make_engine(f"sqlite:///{tmp_path / 'ratings.sqlite'}")
    p.create_tables(engine)
    with engine.begin() as conn:
        insert_rows(conn, p.organizations, [{"county": COUNTY, "organization_id": "b1", "name": "第一支部",
                                             "organization_type": "branch", "township_id": "t1"}])
    yield p, engine
    engine.dispose()


def test_whole_county_load_never_places_a_member_without_the_township_of_its_branch(directory):
    """The projection commits a new branch and its member while the first lookup of the county reads it:
    the member is either not there yet or placed in the branch's township — never without a township
    (it would then be scored under the county's scheme instead of its township's)."""
    p, engine = directory
    with engine.begin() as conn:
        insert_rows(conn, p.members, [{"county": COUNTY, "member_id": "m1", "name": "张三", "branch_id": "b1"}])
    committed = []

    def commit_a_batch_meanwhile(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        if committed or "SELECT" not in statement:
            return
        committed.append(statement)
        with engine.begin() as other:  # the projection's next batch: a new branch, then its member
            insert_rows(other, p.organizations, [{"county": COUNTY, "organization_id": "b2", "name": "第二支部",
                                                  "organization_type": "branch", "township_id": "t2"}])
            insert_rows(other, p.members, [{"county": COUNTY, "member_id": "m2", "name": "李四", "branch_id": "b2"}])

    event.listen(engine, "after_cursor_execute", commit_a_batch_meanwhile)
    try:
        found = DirectoryReader(p, engine)._lookup([(COUNTY, "member", "m1")], {COUNTY})
    finally:
        event.remove(engine, "after_cursor_execute", commit_a_batch_meanwhile)
    assert committed, "the batch was committed during the lookup"
    assert found[(COUNTY, "member", "m1")] == ("b1", "t1")
    assert found.get((COUNTY, "member", "m2")) in (None, ("b2", "t2"))


def test_a_member_registered_later_is_placed_by_one_batched_lookup(directory):
    p, engine = directory
    reader = DirectoryReader(p, engine)

    async def run() -> tuple:
        first = await reader.find((COUNTY, "member", "m9"))  # warms the county: no such member yet
        with engine.begin() as conn:
            insert_rows(conn, p.members, [{"county": COUNTY, "member_id": "m9", "name": "王五", "branch_id": "b1"}])
        return first, await reader.find((COUNTY, "member", "m9"))

    assert asyncio.run(run()) == (None, ("b1", "t1"))
