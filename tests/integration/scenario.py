"""Builders for a small county used by several integration tests (generated ids, Chinese names)."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from tests.conftest import Caller, new_county


@dataclass
class County:
    code: str
    township: str = ""
    branches: list[str] = field(default_factory=list)
    members: list[str] = field(default_factory=list)
    seq: int = 0


def snapshot(engine, projection, county: str) -> dict:
    """Every row of the county in each of a projection's tables, as comparable sorted tuples."""
    out = {}
    with engine.connect() as conn:
        for name, table in projection.metadata.tables.items():
            rows = conn.execute(select(table).where(table.c.county == county)).all()
            out[name] = sorted(tuple(str(v) for v in r) for r in rows)
    return out


def expect_ok(reply: dict) -> dict:
    assert reply["ok"], reply
    return reply


async def make_county(caller: Caller, branches: int = 2, members_per_branch: int = 3, year: int = 2026,
                      preset: str = "532") -> County:
    c = County(new_county())
    expect_ok(await caller.cmd(c.code, "organizations", "add_county", {"county_code": c.code, "name": "银海区"}))
    r = expect_ok(await caller.cmd(c.code, "organizations", "add_township", {"name": "侨港镇"}))
    c.township = r["data"]["township_id"]
    for b in range(branches):
        r = expect_ok(await caller.cmd(c.code, "organizations", "establish_organization", {
            "name": f"侨港镇第{b + 1}村党支部", "organization_type": "branch", "host_unit_type": "village",
            "township_id": c.township, "approved_by": "中共侨港镇委员会", "approved_on": "2020-03-01"}))
        c.branches.append(r["data"]["organization_id"])
        for m in range(members_per_branch):
            r = expect_ok(await caller.cmd(c.code, "organizations", "register_member", {
                "name": f"张秀玲{b}{m}", "gender": "female", "birth_date": "1980-05-01",
                "membership_status": "full", "joined_on": "2005-07-01", "branch_id": c.branches[-1]}))
            c.members.append(r["data"]["member_id"])
    if preset:
        r = expect_ok(await caller.cmd(c.code, "ratings", "define_scheme", {"year": year, "name": "2026年党员星级管理",
                                                                           "preset": preset}))
        r = expect_ok(await caller.cmd(c.code, "ratings", "define_scheme", {
            "year": year, "name": "2026年村党组织星级管理", "preset": preset, "rated_kind": "organization"}))
        c.seq = r["seq"]
    return c
