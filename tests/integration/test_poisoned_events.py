"""An event this code cannot decode never becomes a 500: a command on its aggregate and a rebuild
over it are refused with 409 `poisoned_event`, naming the event's stream sequence."""
from __future__ import annotations

import orjson

from tests.integration.scenario import make_county
from tests.integration.test_rebuild import score


async def test_a_command_on_a_poisoned_aggregate_names_the_event(system, caller, nc):
    c = await make_county(caller, branches=1, members_per_branch=1)
    ack = await nc.jetstream().publish(f"pb.{c.code}.evt.org.township.poisoned", b"{not json")
    reply = await caller.cmd(c.code, "organizations", "add_township", {"name": "毒镇", "township_id": "poisoned"})
    assert not reply["ok"]
    assert reply["error"]["status"] == 409 and reply["error"]["code"] == "poisoned_event", reply
    assert f"sequence {ack.seq}" in reply["error"]["detail"] and f"序号 {ack.seq}" in reply["error"]["detail"]


async def test_rebuilding_a_poisoned_projection_names_the_event(system, caller, nc):
    c = await make_county(caller, branches=1, members_per_branch=1)
    await score(caller, c.code, "member", c.members[0], "member_corps", 2, "p0")
    ack = await nc.jetstream().publish(f"pb.{c.code}.evt.ratings.points.2026.member.{c.members[0]}",
                                       orjson.dumps({"type": "MemberScored", "not": "an envelope"}))
    reply = await caller.cmd(c.code, "ratings", "rebuild", {"projection": "ratings.stars"})
    assert not reply["ok"] and reply["error"]["status"] == 409 and reply["error"]["code"] == "poisoned_event", reply
    assert f"seq {ack.seq}" in reply["error"]["detail"]
