"""The county the generated scope test (test_scope_generated.py) runs against, built over HTTP by its
admin: two townships, organizations and members in each, schemes, scores, a rectification case, units.
What belongs to township 东风镇 (`tw-east`) and to its branch `east-a` is the canary: no token of
another county, township or branch may read it or act on it.

PATHS, QUERIES and BODIES fill every operation of /openapi.json with values aimed at that canary. A
new operation needs its entries here (the test names what is missing): that is the point — it cannot
go untested for scope."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from services.organizations.enterprises.uscc import uscc_from_parts
from services.organizations.rooms.domain import delegate_id_of, staff_id_of

DIVISION = "450503"
USCC_EAST, USCC_WEST, USCC_PROBE = (uscc_from_parts(DIVISION, f"{n:08d}") for n in (7001, 7002, 7003))
APPROVAL = {"approved_by": "中共银海区委组织部", "approved_on": "2024-05-04"}
ORGANIZATIONS = {  # id: (name, township)
    "east-a": ("东风镇甲村党支部", "tw-east"), "east-b": ("东风镇乙村党支部", "tw-east"),
    "east-c": ("东风镇丙村党支部", "tw-east"), "west-a": ("西岭镇甲村党支部", "tw-west"),
}
MEMBERS = {"m-east-a": ("欧阳甲", "east-a"), "m-east-b": ("欧阳乙", "east-b"), "m-west-a": ("欧阳丙", "west-a")}
# what only someone of township tw-east (branch east-a) may read
EAST_A = ["east-a", "east-c", "东风镇甲村", "东风镇丙村", "m-east-a", "欧阳甲", "ent-east", "东风海产", USCC_EAST,
          "2025.east-a", "app-east-a", "欧阳庚",
          # 党群服务中心, 设岗定责 (branch east-c), 党代表工作室 of tw-east: no branch holds a township's centre or room
          "centre-east", "东风镇党群服务中心", "post-east", "m-east-c", "欧阳丑", "room-east", "东风镇党代表工作室", "欧阳辛"]
EAST = ["tw-east", "东风镇", *EAST_A]
EAST_B = ["east-b", "东风镇乙村", "m-east-b", "欧阳乙"]
WEST = ["tw-west", "西岭镇", "west-a", "m-west-a", "欧阳丙", "ent-west", "西岭渔业", USCC_WEST]


@dataclass
class Fixture:
    county: str
    score_id: str = ""
    job_id: str = ""  # a 积分表 import the county admin ran as a job (it has a result workbook)
    bodies: dict[str, dict] = field(default_factory=dict)  # this county's own bodies (the rule table)

    @property
    def login(self) -> str:
        """The probe account of tw-east: logins are unique in the deployment, so one per county."""
        return f"{PROBE_ACCOUNT}-{self.county}"


def paths(fx: Fixture) -> dict[str, str]:
    """Path parameters by name: every one points at the canary."""
    return {"county": fx.county, "member_id": "m-east-a", "organization_id": "east-a", "enterprise_id": "ent-east",
            "case_id": "2025.east-a", "score_id": fx.score_id, "year": "2026", "applicant_id": "app-east-a",
            "service_point_id": "sp-1", "centre_id": "centre-east", "post_id": "post-east", "room_id": "room-east",
            "login": fx.login, "subscription_id": "sub-east", "job_id": fx.job_id}


# query parameters (optional ones too): aimed at the canary where they name something
QUERIES = {"township_id": "tw-east", "branch_id": "east-a", "organization_id": "east-a", "year": "2026",
           "as_of": "2026-06-30", "from_month": "2026-01-01", "to_month": "2026-03-01", "campaign": "2025",
           "rated_kind": "member", "limit": "100", "offset": "0", "status": "open", "reason": "secretary_unfit",
           "known_at": "2030-01-01", "stage": "applicant", "within_days": "30",
           "service_point_id": "sp-1", "destination": "广东省深圳市", "state": "mobile",
           "after": "0", "live": "false"}  # the notification stream: what came after 0, then closed

PROBE_ACCOUNT = "probe-east"  # an account of tw-east (accounts: docs/decisions/019)
# sign-in, bearer tokens for a password, password change and sign-out act on the account the body's
# password (or the caller's own token) proves: no county, township or branch to aim at
NOT_SCOPED = {"open_session", "issue_bearer", "change_password", "close_session"}
CSV = "text/csv"
MEMBER_CSV = ("姓名,性别,出生日期,党员类型,入党日期,所在支部\n欧阳丁,男,1975-03-02,正式党员,2001-07-01,东风镇甲村党支部\n")
ENTERPRISE_CSV = ("统一社会信用代码,单位名称,类型,乡镇,行业,从业人员,正式党员,登记日期\n"
                  f"{USCC_PROBE},东风冷链有限公司,非公企业,东风镇,制造业,30,1,2025-01-15\n")
SCORE = {"year": 2026, "category": "lead_by_example", "points": 2, "reason": "带头参与防汛", "occurred_on": "2026-05-01",
         "idempotency_key": "probe-score"}
SCORE_CSV = "对象编号,类别,分值,事由,发生日期,幂等键\nm-east-a,lead_by_example,2,带头参与防汛,2026-05-01,probe-sheet\n"
CENTRE_FACILITIES = {"floor_area_m2": 420, "zones": ["日常办公区", "综合服务区", "活动区", "教育培训区"],
                     "windows": ["党员服务", "综合业务", "帮办代办", "咨询投诉"], "signage": True, "night_visible": True}
COMMITMENT = {"member_id": "m-east-c", "post_id": "post-east", "year": 2026, "items": ["每月入户宣传"],
              "made_on": "2026-01-10", "published_at": "村务公开栏"}
# request bodies of every write: ones the county admin could send (valid, aimed at the canary);
# {"file": (name, text, type)} for uploads
BODIES: dict[str, dict] = {
    "add_county": {"county_code": "659998", "name": "探针县"},
    "add_township": {"name": "探针镇", "township_id": "tw-probe"},
    "establish_organization": {"name": "东风镇甲村第一党小组", "organization_type": "party_group",
                               "host_unit_type": "village", "parent_id": "east-a", "township_id": "tw-east",
                               **APPROVAL},
    "register_member": {"name": "欧阳戊", "gender": "男", "membership_status": "正式党员", "joined_on": "2010-07-01",
                        "branch_id": "east-a"},
    "import_members": {"file": ("members.csv", MEMBER_CSV, CSV)},
    "transfer_member": {"to_branch_id": "east-b", "transferred_on": "2025-06-01", "reason": "工作调动"},
    "rename_organization": {"new_name": "东风镇甲村党总支", **APPROVAL},
    "upgrade_organization": {"to_type": "general_branch", **APPROVAL},
    "transfer_organization": {"to_township_id": "tw-west", **APPROVAL},
    "merge_organization": {"into_organization_id": "east-b", **APPROVAL},
    "dissolve_organization": {"reason": "村庄撤并", **APPROVAL},
    "restore_organization": {"reason": "撤销错误", **APPROVAL},
    "elect_committee": {"elected_on": "2025-03-01", "committee": [{"role": "secretary", "name": "欧阳甲"}]},
    "postpone_election": {"new_due_on": "2031-03-01", "reason": "村庄撤并中", **APPROVAL},
    "classify_organization": {"grade": "average", "classified_on": "2026-11-20", "items": {
        "good_leadership": True, "good_membership": True, "good_mechanisms": True, "good_performance": False,
        "good_public_response": False}},
    "flag_organization_weak": {"organization_id": "east-a", "campaign": "2026", "reasons": ["weak_service"],
                               "screened_on": "2026-01-05", "decided_on": "2026-01-15"},
    "plan_rectification": {"plan": "一村一策", "measures": ["调整书记"], "due_on": "2025-12-31"},
    "replace_secretary": {"previous_name": "欧阳甲", "new_name": "欧阳乙", "replaced_on": "2025-03-01"},
    "assign_first_secretary": {"person_name": "李卫东", "from_on": "2025-02-01", "to_on": "2027-01-31"},
    "assign_liaison_leader": {"leader_name": "王书记", "assigned_on": "2025-02-01"},
    "report_rectification_progress": {"reported_on": "2025-04-01", "summary": "已召开专题组织生活会"},
    "accept_rectification_by_township": {"accepted_on": "2025-06-01", "accepted_by": "乡镇党委"},
    "accept_rectification": {"accepted_on": "2025-07-01", "accepted_by": "中共银海区委组织部"},
    "extend_rectification": {"new_due_on": "2026-06-30", "reason": "班子调整尚未完成"},
    "register_enterprise": {"uscc": USCC_PROBE, "name": "东风冷链有限公司", "unit_type": "private_enterprise",
                            "township_id": "tw-east", "industry": "制造业", "employees": 30, "full_members": 1,
                            "registered_on": "2025-01-15"},
    "import_enterprises": {"file": ("units.csv", ENTERPRISE_CSV, CSV)},
    "update_headcount": {"employees": 60, "full_members": 6, "effective_on": "2025-06-01"},
    "close_enterprise": {"status": "suspended", "closed_on": "2025-08-01", "reason": "停业整顿"},
    "reopen_enterprise": {"reopened_on": "2025-09-01", "reason": "恢复经营"},
    "assign_instructor": {"person_name": "陈海生", "role": "党建指导员", "assigned_on": "2025-04-01"},
    "withdraw_instructor": {"withdrawn_on": "2025-05-01", "reason": "调离"},
    "record_mass_organization": {"kind": "trade_union", "established_on": "2025-04-01"},
    "found_enterprise_branch": {"enterprise_ids": ["ent-east"], "founding_mode": "standalone",
                                "organization_name": "东风海产有限公司党支部", "approved_by": "乡镇党委",
                                "approved_on": "2025-03-01", "founded_on": "2025-03-10"},
    "define_scheme": {"name": "东风镇2026年党员星级", "preset": "beihai-5", "township_id": "tw-east"},
    "score_member": SCORE,
    "score_organization": {**SCORE, "category": "leadership_team"},
    "revoke_score": {"reason": "录入错误"},
    "record_batch": {"scores": [{**SCORE, "rated_kind": "member", "rated_id": "m-east-a",
                                 "idempotency_key": "probe-batch"}]},
    "import_scores": {"file": ("scores.csv", SCORE_CSV, CSV)},
    "close_year": {"reason": "年度评定结束"},
    "reopen_year": {"reason": "补录"},
    "adopt_rules": {},  # filled from the rules in force (the whole table)
    "create_subscription": {"subscription_id": "sub-probe", "name": "东风镇工作群", "channel": "webhook",
                            "url": "http://127.0.0.1:9/hook", "filters": {"township_ids": ["tw-east"]}},
    "change_subscription": {"name": "东风镇党委工作群", "filters": {"township_ids": ["tw-east"]}},
    "rotate_secret": {"keep_previous_hours": 1},
    "remove_subscription": None,
    "replay_deliveries": {},
    "mark_read": {},  # filled with a notification about east-a
    "adopt_notification_rules": {"effective_from": "2027-01-01", "kinds_off": ["organization_founded"]},
    "run_conditions": {"as_of": "2026-06-30"},
    # 发展党员: steps on applicant app-east-a of east-c (east-a is merged and dissolved by the probes above;
    # any order: a step out of order is 409); probation
    # decisions on full member m-east-a are 409 (not probationary) — only the scope is at stake
    "receive_application": {"name": "欧阳己", "gender": "女", "birth_date": "1998-03-08", "branch_id": "east-c",
                            "applied_on": "2020-01-01", "received_by": "欧阳甲", "applicant_id": "app-probe"},
    "designate_activist": {"designated_on": "2021-01-01", "decided_by": "支部委员会",
                           "training_contacts": ["欧阳甲", "欧阳乙"]},
    "designate_candidate": {"designated_on": "2022-06-01", "decided_by": "支部委员会"},
    "admit_probationary_member": {"branch_meeting_on": "2023-01-01", **APPROVAL},
    "discontinue_development": {"decided_on": "2024-01-01", "decided_by": "支部委员会", "reason": "本人撤回"},
    "confirm_membership": {"branch_meeting_on": "2024-01-02", **APPROVAL},
    "extend_probation": {"branch_meeting_on": "2024-01-02", "months": 6, "reason": "继续考察", **APPROVAL},
    # 党籍异动 and 流动党员 on m-east-a; the service point registry is the county's
    "change_standing": {"change": "suspended", "changed_on": "2025-01-01", "reason": "停止党籍", "decided_by": "乡镇党委"},
    "record_member_away": {"away_since": "2025-01-01", "destination": "广东省深圳市"},
    "import_mobile_members": {"file": ("mobile.csv", "党员,所在支部,外出日期,外出地点\n"
                                                     "m-east-c,东风镇丙村党支部,2024-01-01,广东省深圳市\n", CSV)},
    "import_applicants": {"file": ("applicants.csv", "姓名,性别,出生日期,所在支部,申请日期,接收人\n"
                                                     "欧阳壬,男,1990-01-01,东风镇丙村党支部,2024-01-01,支部书记\n", CSV)},
    "register_mobile_member": {"away_since": "2024-01-01", "destination": "广东省深圳市", "contact": "13700000000",
                               "receiving_organization": "深圳市南山区粤海街道党工委", "registered_on": "2025-01-01"},
    "record_member_return": {"returned_on": "2025-06-01"},
    "register_service_point": {"service_point_id": "sp-probe", "name": "探针服务站", "location": "广东省广州市",
                               "host": "广州商会", "contact": "13600000000", "opened_on": "2024-01-01"},
    "close_service_point": {"closed_on": "2025-06-01", "reason": "撤并"},
    "import_service_points": {"file": ("points.csv", "站点名称,所在地,依托单位,联系人,设立日期\n探针二站,浙江省杭州市,杭州商会,林芳,2024-01-01\n", CSV)},
    "cancel_probation": {"branch_meeting_on": "2024-01-02", "reason": "不具备党员条件", **APPROVAL},
    **{  # 党群服务中心 (centre-east), 设岗定责 (post-east of east-c), 党代表工作室 (room-east)
        "register_centre": {"name": "东风镇便民服务站", "kind": "站", "level": "乡镇", "township_id": "tw-east",
                            "floor_area_m2": 320, "opened_on": "2025-01-01"},
        "import_centres": {"file": ("centres.csv", "名称,层级,乡镇,面积,建成日期\n东风镇党员服务站,乡镇,东风镇,300,2025-02-01\n",
                                    CSV)},
        "adopt_centre_standards": {},  # filled from the standards in force
        "update_centre_facilities": {**CENTRE_FACILITIES, "effective_on": "2025-06-01"},
        "inspect_centre": {"inspected_on": "2025-07-01", "inspected_by": "区委组织部", "met": ["rules_displayed"]},
        "plaque_centre": {"plaqued_on": "2025-07-10", "approved_by": "中共银海区委组织部"},
        "plan_centre_upgrade": {"year": 2026, "kind": "优化", "items": ["亮化工程"], "due_on": "2026-09-30",
                                "planned_on": "2026-01-10"},
        "report_upgrade_progress": {"year": 2026, "percent": 50, "note": "施工中", "reported_on": "2026-03-01"},
        "close_centre": {"closed_on": "2026-06-01", "reason": "撤并", "decided_by": "中共银海区委组织部"},
        "define_post": {"branch_id": "east-c", "name": "环境卫生岗", "category": "环境卫生", "duties": "村内环境卫生监督",
                        "defined_on": "2026-01-05"},
        "import_posts": {"file": ("posts.csv", "支部,岗位名称,岗位类别,岗位职责,设岗日期\n"
                                               "东风镇丙村党支部,关爱帮扶岗,关爱老人,结对帮扶,2026-01-06\n", CSV)},
        "assign_post": {"member_id": "m-east-c", "assigned_on": "2026-01-05"},
        "release_post": {"member_id": "m-east-c", "released_on": "2026-02-01", "reason": "外出务工"},
        "make_commitment": COMMITMENT,
        "review_commitment": {"member_id": "m-east-c", "year": 2026, "reviewed_on": "2026-06-30",
                              "reviewed_by": "支部党员大会", "grade": "良好"},
        "establish_room": {"name": "东风镇第二党代表工作室", "township_id": "tw-east", "established_on": "2024-01-01"},
        "import_rooms": {"file": ("rooms.csv", "工作室,乡镇,设立日期,姓名,身份,代表层级,进室日期,负责人\n"
                                               "东风镇第三党代表工作室,东风镇,2024-01-01,欧阳壬,党代表,县,2024-01-01,是\n", CSV)},
        "station_delegate": {"name": "欧阳壬", "congress_level": "县", "stationed_on": "2024-02-01"},
        "withdraw_delegate": {"delegate_id": delegate_id_of("room-east", "欧阳壬"), "left_on": "2026-01-01",
                              "reason": "任期届满"},
        "appoint_room_head": {"delegate_id": delegate_id_of("room-east", "欧阳辛"), "appointed_on": "2024-03-01"},
        "assign_liaison_staff": {"name": "欧阳癸", "assigned_on": "2024-02-01"},
        "release_liaison_staff": {"staff_id": staff_id_of("room-east", "欧阳癸"), "released_on": "2025-01-01"},
        "record_room_activity": {"activity_id": "act-probe", "kind": "接待", "held_on": "2026-03-01", "people": 5,
                                 "delegate_ids": [delegate_id_of("room-east", "欧阳辛")], "topics": "医保缴费"},
    },
    "revoke_in_county": {"sub": "nobody-probe"},
    "create_account": {"login": "probe-new", "name": "探针", "role": "auditor", "password": "Probe-2026!"},
    "disable_account": {"reason": "探针"},
    "enable_account": {},
    "rescope_account": {"role": "township_operator", "township_id": "tw-east"},
    "reset_password": {"password": "Probe-2026!"},
    "revoke_everywhere": {"sub": "nobody-probe"},
}


async def build(http, county: str, platform: dict, admin: dict) -> Fixture:
    """The county as its admin sets it up; returns what the probes aim at."""
    fx = Fixture(county)
    base = f"/api/v1/counties/{county}"

    async def ok(method: str, url: str, body: dict) -> dict:
        r = await http.request(method, url, json=body, headers=platform if url.endswith("/counties") else admin)
        assert r.status_code in (200, 201), (url, r.text)
        return r.json()

    await ok("POST", "/api/v1/counties", {"county_code": county, "name": "银海区"})
    for tid, name in (("tw-east", "东风镇"), ("tw-west", "西岭镇")):
        await ok("POST", f"{base}/townships", {"township_id": tid, "name": name})
    for oid, (name, township) in ORGANIZATIONS.items():
        await ok("POST", f"{base}/organizations", {"organization_id": oid, "name": name, "organization_type": "branch",
                                                   "host_unit_type": "village", "township_id": township, **APPROVAL})
    for mid, (name, branch) in MEMBERS.items():
        await ok("POST", f"{base}/members", {"member_id": mid, "name": name, "gender": "女", "joined_on": "2010-07-01",
                                             "membership_status": "正式党员", "branch_id": branch})
    await ok("POST", f"{base}/accounts", {"login": fx.login, "name": "东风镇操作员", "role": "township_operator",
                                          "township_id": "tw-east", "password": "Probe-2026!"})
    await ok("PUT", f"{base}/star-schemes/2026", {"name": "2026年党员星级", "preset": "beihai-5"})
    await ok("PUT", f"{base}/star-schemes/2026", {"name": "2026年村党组织星级", "preset": "532",
                                                  "rated_kind": "organization"})
    await ok("PUT", f"{base}/star-schemes/2026", {"name": "东风镇党员星级", "preset": "beihai-5", "township_id": "tw-east"})
    for mid in MEMBERS:
        scored = await ok("POST", f"{base}/members/{mid}/scores", {**SCORE, "idempotency_key": f"fx-{mid}"})
        fx.score_id = fx.score_id or scored["score_id"]
    for oid in ("east-a", "west-a"):
        await ok("POST", f"{base}/organizations/{oid}/scores", {**SCORE, "category": "leadership_team",
                                                                "idempotency_key": f"fx-{oid}"})
    for oid in ("east-a", "west-a"):
        await ok("POST", f"{base}/rectification-cases", {"organization_id": oid, "campaign": "2025",
                                                         "reasons": ["secretary_unfit"], "screened_on": "2025-01-10",
                                                         "decided_on": "2025-01-20"})
        await ok("PUT", f"{base}/organizations/{oid}/classifications/2024", {**BODIES["classify_organization"],
                                                                              "classified_on": "2025-01-15"})
    for eid, uscc, name, township in (("ent-east", USCC_EAST, "东风海产有限公司", "tw-east"),
                                      ("ent-west", USCC_WEST, "西岭渔业有限公司", "tw-west")):
        await ok("POST", f"{base}/enterprises", {**BODIES["register_enterprise"], "enterprise_id": eid, "uscc": uscc,
                                                 "name": name, "township_id": township, "full_members": 0})
    await ok("POST", f"{base}/applicants", {"applicant_id": "app-east-a", "name": "欧阳庚", "gender": "男",
                                            "birth_date": "1996-01-01", "branch_id": "east-c",
                                            "applied_on": "2020-01-01", "received_by": "欧阳甲"})
    await ok("POST", f"{base}/mobile-service-points", {"service_point_id": "sp-1", "name": "银海区驻深圳流动党员服务站",
                                                       "location": "广东省深圳市", "host": "深圳北海商会",
                                                       "contact": "13800000000", "opened_on": "2024-01-01"})
    r = await http.post(f"{base}/scores/import", headers={**admin, "Prefer": "respond-async"},
                        files={"file": ("scores.csv", SCORE_CSV.encode(), CSV)})
    assert r.status_code == 202, r.text
    fx.job_id = r.json()["job_id"]
    for _ in range(300):
        if (await http.get(f"{base}/jobs/{fx.job_id}", headers=admin)).json()["state"] != "running":
            break
        await asyncio.sleep(0.05)
    rules = await http.get(f"{base}/rules", headers=admin)
    fx.bodies["adopt_rules"] = {**rules.json()["in_force"], "effective_from": "2027-01-01"}
    await positions(ok, base)
    standards = await http.get(f"{base}/centre-standards", headers=admin)
    fx.bodies["adopt_centre_standards"] = {**standards.json()["in_force"], "effective_from": "2027-01-01"}
    await ok("POST", f"{base}/subscriptions", {**BODIES["create_subscription"], "subscription_id": "sub-east"})
    fx.bodies["mark_read"] = {"notification_ids": [await _notification_about(http, base, admin, "east-a")]}
    return fx


async def positions(ok, base: str) -> None:
    """A centre and a room of tw-east, a post of east-c with its member's commitment."""
    await ok("POST", f"{base}/centres", {**CENTRE_FACILITIES, "centre_id": "centre-east", "name": "东风镇党群服务中心",
                                         "level": "township", "township_id": "tw-east", "opened_on": "2025-01-01"})
    await ok("POST", f"{base}/members", {"member_id": "m-east-c", "name": "欧阳丑", "gender": "男",
                                         "joined_on": "2010-07-01", "membership_status": "正式党员", "branch_id": "east-c"})
    await ok("POST", f"{base}/posts", {"post_id": "post-east", "branch_id": "east-c", "name": "政策宣传岗",
                                       "category": "政策宣传", "duties": "入户宣讲", "defined_on": "2026-01-05"})
    await ok("POST", f"{base}/posts/post-east/holders", BODIES["assign_post"])
    await ok("POST", f"{base}/commitments", COMMITMENT)
    await ok("POST", f"{base}/rooms", {"room_id": "room-east", "name": "东风镇党代表工作室", "township_id": "tw-east",
                                       "established_on": "2024-01-01"})
    await ok("POST", f"{base}/rooms/room-east/delegates", {"name": "欧阳辛", "congress_level": "县",
                                                           "stationed_on": "2024-01-01"})


async def _notification_about(http, base: str, admin: dict, organization_id: str) -> str:
    import asyncio

    for _ in range(200):  # notifications are issued a moment after the events behind them
        items = (await http.get(f"{base}/notifications", headers=admin, params={"size": 100})).json()["items"]
        found = [i["notification_id"] for i in items if i["organization_id"] == organization_id]
        if found:
            return found[0]
        await asyncio.sleep(0.05)
    raise AssertionError(f"no notification about {organization_id}")
