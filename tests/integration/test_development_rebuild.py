"""Member development, 党籍 changes and mobile members rebuild exactly: the development, membership and
mobile read-models and the registry (its full/probationary flag after 转正, the standing table after a
cancellation or a suspension) come out of a replay in small batches equal to the live ones — rows
written many batches back and in the same batch."""
from __future__ import annotations

from services.organizations.development.projections.development import DevelopmentProjection
from services.organizations.membership.projections.membership import MembershipProjection
from services.organizations.mobile.projections.mobile import MobileProjection
from services.organizations.registry.projections.registry import RegistryProjection
from tests.integration.scenario import expect_ok, make_county
from tests.integration.test_rebuild import rebuilt_equals_live

UPPER = {"approved_by": "中共侨港镇委员会"}


async def test_development_and_registry_rebuild_equal_live(system, caller):
    c = await make_county(caller, branches=2, members_per_branch=1, preset="")
    b = c.branches

    async def cmd(command: str, **data) -> dict:
        return expect_ok(await caller.cmd(c.code, "organizations", command, data))

    async def develop(name: str, branch: str, meeting: str) -> str:
        r = await cmd("receive_application", name=name, gender="男", birth_date="1990-02-03", branch_id=branch,
                      applied_on="2021-03-01", received_by="李卫东")
        aid = r["data"]["applicant_id"]
        await cmd("designate_activist", applicant_id=aid, designated_on="2021-06-01", decided_by="支部委员会",
                  training_contacts=["张秀玲", "黄海燕"])
        await cmd("designate_candidate", applicant_id=aid, designated_on="2022-07-01", decided_by="支部委员会")
        await cmd("admit_probationary_member", applicant_id=aid, branch_meeting_on=meeting, approved_on=meeting,
                  **UPPER)
        return aid

    confirmed = await develop("陈志强", b[0], "2023-01-10")
    cancelled = await develop("刘洋", b[1], "2025-06-01")
    await cmd("confirm_membership", member_id=confirmed, branch_meeting_on="2024-01-15", approved_on="2024-01-20",
              **UPPER)
    r = await cmd("register_member", name="周海燕", gender="female", membership_status="probationary",
                  joined_on="2026-03-01", branch_id=b[0])
    imported = r["data"]["member_id"]
    await cmd("transfer_member", member_id=imported, to_branch_id=b[1], transferred_on="2026-05-01")
    await cmd("extend_probation", member_id=imported, branch_meeting_on="2026-06-01", approved_on="2026-06-02",
              months=6, reason="需继续考察", **UPPER)
    await cmd("cancel_probation", member_id=cancelled, branch_meeting_on="2026-06-01", approved_on="2026-06-03",
              reason="严重违反党的纪律", **UPPER)
    # 党籍异动 and 流动党员 on the scenario's full members
    full = c.members
    await cmd("change_standing", member_id=full[0], change="suspended", changed_on="2026-02-01", reason="停止党籍",
              decided_by="镇党委")
    await cmd("change_standing", member_id=full[0], change="restored", changed_on="2026-05-01", reason="恢复党籍",
              decided_by="镇党委")
    await cmd("register_service_point", service_point_id="sz", name="驻深圳流动党员服务站", location="广东省深圳市",
              host="深圳北海商会", contact="13800000000", opened_on="2024-01-01")
    await cmd("register_mobile_member", member_id=full[0], away_since="2025-01-01", destination="广东省深圳市",
              contact="13700000000", service_point_id="sz", registered_on="2025-09-01")
    await cmd("record_member_away", member_id=full[1], away_since="2026-01-01", destination="广西南宁市")
    await cmd("record_member_return", member_id=full[1], returned_on="2026-03-01")
    r = await cmd("close_service_point", service_point_id="sz", closed_on="2026-06-01", reason="撤并")

    service = system.service("organizations")
    dev = await rebuilt_equals_live(service, DevelopmentProjection, c.code, r["seq"], replay_batch=3)
    reg = await rebuilt_equals_live(service, RegistryProjection, c.code, r["seq"], replay_batch=3)
    changes = await rebuilt_equals_live(service, MembershipProjection, c.code, r["seq"], replay_batch=3)
    mobile = await rebuilt_equals_live(service, MobileProjection, c.code, r["seq"], replay_batch=3)
    assert sorted(row[3] for row in changes["org_standing_change"]) == ["active", "cancelled", "suspended"]
    assert sorted(row[2] for row in mobile["org_mobile_member"]) == ["mobile", "returned"]
    assert [row[7] for row in mobile["org_service_point"]] == ["2026-06-01"]
    stages = {row[1]: (row[5], row[6]) for row in dev["org_applicant"]}  # (branch, stage)
    assert stages == {confirmed: (b[0], "full"), cancelled: (b[1], "cancelled"), imported: (b[1], "probationary")}
    statuses = {row[1]: row[5] for row in reg["org_member"]}
    assert (statuses[confirmed], statuses[cancelled], statuses[imported]) == ("full", "probationary", "probationary")
    assert sorted((row[1], row[2]) for row in reg["org_member_standing"]) == sorted(
        [(cancelled, "cancelled"), (full[0], "active")])
