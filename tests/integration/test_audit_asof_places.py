"""As-of answers place members and branches where they were on the date asked, not where today's directory
has them (issue 11 item 1): a branch transferred to another township in September counts in its old
township for June, and the members of a branch merged away in October count in the absorbing branch
from then on — in the star distribution of a township and in a member's rating (its township's scheme)."""
from __future__ import annotations

from shared.auth import Actor
from tests.integration.scenario import expect_ok, make_county
from tests.integration.test_rebuild import score


async def test_the_distribution_and_a_rating_use_the_township_and_branch_of_the_date(system, caller):
    c = await make_county(caller, branches=2, members_per_branch=1)
    b, m, old_township = c.branches, c.members, c.township
    new_township = expect_ok(await caller.cmd(c.code, "organizations", "add_township", {"name": "咸田镇"}))["data"][
        "township_id"]
    await score(caller, c.code, "member", m[0], "member_corps", 6, "p0")  # occurred 2026-06-01
    await score(caller, c.code, "member", m[1], "member_corps", 6, "p1")

    async def org(command: str, oid: str, **data) -> None:
        expect_ok(await caller.cmd(c.code, "organizations", command, {
            "organization_id": oid, "approved_by": "中共银海区委组织部", **data}))

    await org("transfer_organization", b[0], to_parent_id=None, to_township_id=new_township, approved_on="2026-09-01")
    await org("merge_organization", b[1], into_organization_id=b[0], approved_on="2026-10-01")  # m[1] moves to b[0]
    auditor = Actor(sub="inspector-wu", role="auditor", county=c.code)

    async def members_in(township: str, as_of: str) -> dict[str, dict]:
        d = expect_ok(await caller.qry(c.code, "ratings", "star_distribution_as_of",
                                       {"as_of": as_of, "township_id": township}, actor=auditor))["data"]
        return {row["branch_id"]: row["members_rated"] for row in d["branches"] if row["members_rated"]}

    assert await members_in(old_township, "2026-06-30") == {b[0]: 1, b[1]: 1}
    assert await members_in(new_township, "2026-06-30") == {}
    assert await members_in(old_township, "2026-09-15") == {b[1]: 1}  # b[0] moved, b[1] not merged yet
    assert await members_in(new_township, "2026-09-15") == {b[0]: 1}
    assert await members_in(new_township, "2026-12-31") == {b[0]: 2}
    assert await members_in(old_township, "2026-12-31") == {}

    async def rating(as_of: str) -> dict:
        return expect_ok(await caller.qry(c.code, "ratings", "rating_as_of", {
            "rated_kind": "member", "rated_id": m[1], "as_of": as_of}, actor=auditor))["data"]

    june, december = await rating("2026-06-30"), await rating("2026-12-31")
    assert (june["branch_id"], june["township_id"]) == (b[1], old_township), june
    assert (december["branch_id"], december["township_id"]) == (b[0], new_township), december
    assert june["points_by_category"] == december["points_by_category"] == {"member_corps": 6}
