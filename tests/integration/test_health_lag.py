"""Health's lag counts events not committed — rows and checkpoint — so that a test or an operator can wait
for lag 0 and then read everything, also when the log ends in events the projection receives but does not
fold (their checkpoint is committed once no more events come, shared/projection_runner.py)."""
from __future__ import annotations

import asyncio
import time

from shared.messaging import health_of_every_instance
from tests.integration.scenario import expect_ok, make_county


async def lag_of(nc, county: str, projection: str) -> int | None:
    for health in await health_of_every_instance(nc, "ratings", wait_s=0.3):
        for p in health["projections"]:
            if p["county"] == county and p["projection"] == projection and p.get("role") == "active":
                return p.get("lag")
    return None


async def test_lag_reaches_zero_only_when_the_checkpoint_row_has_the_last_event(system, nc, caller):
    c = await make_county(caller, branches=1, members_per_branch=1)
    # the county's log ends in a rename: ratings.stars receives it (org.organization.>) but folds nothing
    renamed = expect_ok(await caller.cmd(c.code, "organizations", "rename_organization", {
        "organization_id": c.branches[0], "new_name": "侨港镇侨港社区党支部", "approved_by": "中共侨港镇委员会",
        "approved_on": "2026-03-01"}))
    service = system.service("ratings")
    last = renamed["seq"]  # the projection's last event (other writers' later events are not its own)
    runner = service.runners[("ratings.stars", c.code)]
    deadline = time.monotonic() + 30
    while (lag := await lag_of(nc, c.code, "ratings.stars")) != 0:
        assert time.monotonic() < deadline, f"lag still {lag}"
        # until it is 0, the checkpoint may trail; once it is 0, the row must hold the last event
        await asyncio.sleep(0.05)
    assert await runner.persisted_checkpoint() >= last
