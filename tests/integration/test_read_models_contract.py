"""One contract for the read-models, run against every adapter: SQLite always, PostgreSQL when
DANGJIAN_TEST_POSTGRES_URL is set. Each adapter folds the same county log; the rows must agree
with the live (SQLite) read-model the services maintain."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from shared.db import make_engine
from shared.eventstore import EventStore
from shared.projection_runner import ProjectionRunner
from shared.rebuild import rebuild_county
from services.organizations.enterprises.projections.coverage import CoverageProjection
from services.organizations.registry.projections.registry import RegistryProjection
from services.organizations.enterprises.uscc import uscc_from_parts
from services.ratings.projections.stars import StarsProjection
from tests.conftest import POSTGRES_URL
from tests.integration.scenario import expect_ok, make_county

SKIP_PG = pytest.mark.skipif(not POSTGRES_URL, reason="PostgreSQL read-model contract: DANGJIAN_TEST_POSTGRES_URL not set")
ADAPTERS = [pytest.param("sqlite", id="sqlite"), pytest.param("postgresql", id="postgresql", marks=SKIP_PG)]
COMPARED = {  # columns without timestamps (their text form differs by adapter, not their meaning)
    StarsProjection: {"ratings_points": None, "ratings_stars": None, "ratings_directory_member": None,
                      "ratings_score": ["score_id", "rated_id", "year", "category", "points", "revoked", "occurred_on"]},
    RegistryProjection: {"org_township": None, "org_organization": None, "org_member": None},
    CoverageProjection: {"org_enterprise": None},
}
PTYPES = [pytest.param(StarsProjection, id="stars"), pytest.param(RegistryProjection, id="registry"),
          pytest.param(CoverageProjection, id="coverage")]


async def register_unit(caller, c) -> dict:
    """A 两新组织 unit with its headcount updated (for organizations.coverage)."""
    r = expect_ok(await caller.cmd(c.code, "organizations", "register_enterprise", {
        "uscc": uscc_from_parts("450503", f"{c.code}01"), "name": "北海市侨港海产品加工有限公司",
        "unit_type": "private_enterprise", "township_id": c.township, "industry": "制造业", "employees": 42,
        "full_members": 3, "registered_on": "2025-01-10"}))
    return expect_ok(await caller.cmd(c.code, "organizations", "update_headcount", {
        "enterprise_id": r["data"]["enterprise_id"], "employees": 45, "full_members": 4, "effective_on": "2025-06-01"}))


def _rows(engine, projection, county: str, base: str, columns) -> list[tuple]:
    table = projection.metadata.tables[base + projection.suffix]
    cols = [table.c[c] for c in columns] if columns else list(table.columns)
    with engine.connect() as conn:
        rows = conn.execute(select(*cols).where(table.c.county == county)).all()
    return sorted(tuple(str(v) for v in r) for r in rows)


async def _settled(system, caller, nc, c, ptype, adapter, sqlite_file):
    """After the scenario: a 两新 unit registered, the live projection caught up with the log; returns the
    last sequence, the service running the live projection and an engine on the adapter under test."""
    await register_unit(caller, c)
    last = await EventStore(nc).last_seq(c.code)
    service = system.service("ratings" if ptype is StarsProjection else "organizations")
    await service.caught_up(c.code, last)
    return last, service, make_engine(POSTGRES_URL if adapter == "postgresql" else f"sqlite:///{sqlite_file}")


@pytest.mark.parametrize("adapter", ADAPTERS)
@pytest.mark.parametrize("ptype", PTYPES)
async def test_adapter_folds_the_log_like_the_live_read_model(system, caller, nc, tmp_path, adapter, ptype):
    c = await make_county(caller, branches=2, members_per_branch=3)
    seq = c.seq
    for i, m in enumerate(c.members):
        r = expect_ok(await caller.cmd(c.code, "ratings", "record_score", {
            "rated_kind": "member", "rated_id": m, "year": 2026, "category": "economic_development",
            "points": 2 + i, "reason": "发展集体经济成效明显", "occurred_on": "2026-07-01", "idempotency_key": f"c{i}"}))
        seq = r["seq"]
    r = expect_ok(await caller.cmd(c.code, "ratings", "revoke_score",
                                   {"score_id": r["data"]["score_id"], "reason": "录入错误"}))
    r = expect_ok(await caller.cmd(c.code, "organizations", "transfer_member", {
        "member_id": c.members[0], "to_branch_id": c.branches[1], "transferred_on": "2026-08-01", "reason": "工作调动"}))
    last, service, engine = await _settled(system, caller, nc, c, ptype, adapter, tmp_path / "contract.sqlite")
    projection = ptype(suffix=f"__contract_{c.code}")
    runner = ProjectionRunner(nc, engine, projection, c.code)
    try:
        await runner.start()
        assert await runner.wait_for(last, 30)
        live = service.projection(ptype)
        for base, columns in COMPARED[ptype].items():
            mine = _rows(engine, projection, c.code, base, columns)
            theirs = _rows(service.engine, live, c.code, base, columns)
            assert mine == theirs, base
            assert mine, f"{base} is empty: the scenario should have filled it"
    finally:
        await runner.stop()
        await nc.jetstream().delete_consumer(f"PB_{c.code}", runner.durable)
        projection.drop_tables(engine)
        engine.dispose()


@pytest.mark.parametrize("adapter", ADAPTERS)
@pytest.mark.parametrize("ptype", PTYPES)
async def test_adapter_rebuilds_the_live_read_model(system, caller, nc, tmp_path, adapter, ptype):
    """A rebuild (replay into the rebuild fold, then the swap) into each adapter gives the live rows."""
    c = await make_county(caller, branches=2, members_per_branch=2)
    for i, m in enumerate(c.members):
        r = expect_ok(await caller.cmd(c.code, "ratings", "record_score", {
            "rated_kind": "member", "rated_id": m, "year": 2026, "category": "member_corps", "points": 1 + i,
            "reason": "带头参加义务劳动", "occurred_on": "2026-07-01", "idempotency_key": f"r{i}"}))
    expect_ok(await caller.cmd(c.code, "ratings", "revoke_score", {"score_id": r["data"]["score_id"], "reason": "录入错误"}))
    last, service, engine = await _settled(system, caller, nc, c, ptype, adapter, tmp_path / "rebuilt.sqlite")
    try:
        result = await rebuild_county(nc, engine, ptype, c.code, replay_batch=4)
        assert result["events"] >= last
        for base, columns in COMPARED[ptype].items():
            mine = _rows(engine, ptype(), c.code, base, columns)
            assert mine == _rows(service.engine, service.projection(ptype), c.code, base, columns), base
            assert mine, f"{base} is empty: the scenario should have filled it"
    finally:
        ptype().drop_tables(engine)
        engine.dispose()
