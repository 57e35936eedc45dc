"""The read-models of 党群服务中心, 设岗定责 and 党代表工作室 are disposable: rebuilt from the log in small
replay batches they equal the live ones — also where rows were deleted (a member leaving a post, a
delegate leaving a room) or updated after their insert (an inspection, a review, a head)."""
from __future__ import annotations

from services.organizations.centres.projections.centres import CentresProjection
from services.organizations.posts.projections.posts import PostsProjection
from services.organizations.rooms.projections.rooms import RoomsProjection
from tests.integration.scenario import expect_ok, make_county
from tests.integration.test_rebuild import rebuilt_equals_live

ZONES = ["daily_office", "integrated_services", "activities", "education"]


async def test_positions_rebuild_equals_live(system, caller):
    c = await make_county(caller, branches=1, members_per_branch=3, preset="")

    async def cmd(command: str, **data) -> dict:
        return expect_ok(await caller.cmd(c.code, "organizations", command, data))["data"]

    centre = (await cmd("register_centre", name="侨港镇党群服务中心", level="township", township_id=c.township,
                        floor_area_m2=280, zones=ZONES, windows=["member_services"], signage=True,
                        opened_on="2025-01-10"))["centre_id"]
    await cmd("inspect_centre", centre_id=centre, inspected_on="2025-02-01", inspected_by="县委组织部")
    await cmd("plan_centre_upgrade", centre_id=centre, year=2025, kind="upgrade", items=["扩建"], due_on="2025-06-30",
              planned_on="2025-02-10")
    await cmd("update_centre_facilities", centre_id=centre, floor_area_m2=420, zones=ZONES,
              windows=["member_services", "integrated_business", "proxy_services", "consultation_complaints"],
              signage=True, night_visible=True, effective_on="2025-05-01")
    await cmd("report_upgrade_progress", centre_id=centre, year=2025, percent=100, note="完成", reported_on="2025-05-01")
    await cmd("inspect_centre", centre_id=centre, inspected_on="2025-05-10", inspected_by="县委组织部",
              met=["rules_displayed"])
    await cmd("plaque_centre", centre_id=centre, plaqued_on="2025-05-20", approved_by="县委组织部")
    # a second one: plaqued, then found below standard (the plaque comes off), then closed
    full = ["member_services", "integrated_business", "proxy_services", "consultation_complaints"]
    other = (await cmd("register_centre", name="侨港镇侨南党群服务中心", level="township", township_id=c.township,
                       floor_area_m2=420, zones=ZONES, windows=full, signage=True, night_visible=True,
                       opened_on="2025-01-10"))["centre_id"]
    await cmd("inspect_centre", centre_id=other, inspected_on="2025-05-10", inspected_by="县委组织部",
              met=["rules_displayed"])
    await cmd("plaque_centre", centre_id=other, plaqued_on="2025-05-20", approved_by="县委组织部")
    await cmd("inspect_centre", centre_id=other, inspected_on="2025-09-01", inspected_by="县委组织部")
    await cmd("close_centre", centre_id=other, closed_on="2025-10-01", reason="两镇合并", decided_by="县委组织部")

    branch, (a, b, _) = c.branches[0], c.members
    post = (await cmd("define_post", branch_id=branch, name="政策宣传岗", category="policy_publicity",
                      duties="入户宣讲", defined_on="2026-01-05"))["post_id"]
    for member in (a, b):
        await cmd("assign_post", post_id=post, member_id=member, assigned_on="2026-01-05")
    await cmd("make_commitment", member_id=a, post_id=post, year=2026, items=["每月入户宣讲"], made_on="2026-01-10",
              published_at="村务公开栏")
    await cmd("release_post", post_id=post, member_id=b, released_on="2026-02-01", reason="外出务工")
    await cmd("review_commitment", member_id=a, year=2026, reviewed_on="2026-06-30", reviewed_by="支部党员大会",
              grade="good")

    room = (await cmd("establish_room", name="侨港镇党代表工作室", township_id=c.township,
                      established_on="2023-05-01"))["room_id"]
    huang = (await cmd("station_delegate", room_id=room, name="黄海燕", congress_level="county",
                       stationed_on="2023-05-01"))["person_id"]
    chen = (await cmd("station_delegate", room_id=room, name="陈德明", congress_level="city",
                      stationed_on="2023-05-01"))["person_id"]
    await cmd("appoint_room_head", room_id=room, delegate_id=chen, appointed_on="2023-05-02")
    staff = (await cmd("assign_liaison_staff", room_id=room, name="李秀英", assigned_on="2023-05-01"))["person_id"]
    await cmd("record_room_activity", room_id=room, kind="reception", held_on="2026-03-01", delegate_ids=[huang, chen],
              people=12, topics="医保缴费", issues_raised=3, issues_resolved=2)
    await cmd("release_liaison_staff", room_id=room, staff_id=staff, released_on="2026-04-01")
    r = expect_ok(await caller.cmd(c.code, "organizations", "withdraw_delegate", {
        "room_id": room, "delegate_id": chen, "left_on": "2026-05-01", "reason": "任期届满"}))

    service = system.service("organizations")
    centres = await rebuilt_equals_live(service, CentresProjection, c.code, r["seq"], 3)
    posts = await rebuilt_equals_live(service, PostsProjection, c.code, r["seq"], 3)
    rooms = await rebuilt_equals_live(service, RoomsProjection, c.code, r["seq"], 3)
    by_name = {row[2]: row[16:] for row in centres["org_centre_v2"]}
    assert by_name == {"侨港镇党群服务中心": ("True", "", "2025-05-20", "None", "None"),  # to standard, plaqued
                       "侨港镇侨南党群服务中心": ("False", "rules_displayed", "None", "2025-10-01", "两镇合并")}
    assert len(posts["org_post_holder"]) == 1 and posts["org_commitment"][0][12] == "good"
    assert len(rooms["org_room_person"]) == 1 and rooms["org_room"][0][6] == "None"  # the head left with his seat
