"""The HTTP edge of lifecycle, rules, classification, rectification, 两新组织 and coverage, without a
broker: which subject each route asks, with which data (path ids merged), file uploads and
downloads, validation as problem+json and the read-only auditor."""
from __future__ import annotations

import base64
from datetime import date
from urllib.parse import quote

import pytest

from services.gateway.files import XLSX
from tests.unit.gateway_support import COUNTY, OTHER, assert_problem, fields, forwarded_actor, token

BASE = f"/api/v1/counties/{COUNTY}"


APPROVED = {"approved_by": "中共侨港镇委员会", "approved_on": "2025-03-01"}
LIFECYCLE = [
    ("rename", "rename_organization", {**APPROVED, "new_name": "侨港镇侨港社区党支部"}),
    ("upgrade", "upgrade_organization", {**APPROVED, "to_type": "general_branch"}),
    ("transfer", "transfer_organization", {**APPROVED, "to_parent_id": "p2", "to_township_id": "t2"}),
    ("merge", "merge_organization", {**APPROVED, "into_organization_id": "o2"}),
    ("dissolve", "dissolve_organization", {**APPROVED, "reason": "村庄整体搬迁"}),
    ("restore", "restore_organization", {**APPROVED, "reason": "恢复建制"}),
    ("committee", "elect_committee", {"elected_on": "2025-04-01", "committee": [
        {"role": "secretary", "name": "黄海燕", "member_id": None}], "approved_by": None, "approved_on": None}),
    ("election-postponement", "postpone_election", {**APPROVED, "new_due_on": "2026-06-30", "reason": "台风灾后重建"}),
]
CASE_STEPS = [
    ("plan", "plan_rectification", {"plan": "一村一策：配强班子", "measures": ["调整书记", "规范三会一课"],
                                    "due_on": "2026-12-31", "liaison_leader": None}),
    ("secretary-replacement", "replace_secretary", {"previous_name": "王强", "new_name": "黄海燕",
                                                    "replaced_on": "2026-02-01"}),
    ("first-secretary", "assign_first_secretary", {"person_name": "李卫东", "from_on": "2026-02-01",
                                                   "to_on": "2028-01-31"}),
    ("liaison-leader", "assign_liaison_leader", {"leader_name": "陈县长", "assigned_on": "2026-02-01"}),
    ("progress", "report_rectification_progress", {"reported_on": "2026-05-01", "summary": "已召开专题组织生活会"}),
    ("township-acceptance", "accept_rectification_by_township", {"accepted_on": "2026-09-01",
                                                                 "accepted_by": "中共侨港镇委员会"}),
    ("acceptance", "accept_rectification", {"accepted_on": "2026-10-01", "accepted_by": "中共银海区委组织部"}),
    ("extension", "extend_rectification", {"new_due_on": "2027-03-31", "reason": "群众满意度测评未达标"}),
]
ENTERPRISE_STEPS = [
    ("headcount", "update_headcount", {"employees": 40, "full_members": 4, "probationary_members": 1,
                                       "effective_on": "2025-06-01"}),
    ("closure", "close_enterprise", {"status": "suspended", "closed_on": "2025-06-01", "reason": "停产整顿"}),
    ("reopening", "reopen_enterprise", {"reopened_on": "2025-08-01", "reason": "恢复生产"}),
    ("instructor", "assign_instructor", {"person_name": "陈海生", "role": "instructor", "assigned_on": "2025-06-01"}),
    ("instructor-withdrawal", "withdraw_instructor", {"withdrawn_on": "2025-09-01", "reason": None}),
    ("mass-organizations", "record_mass_organization", {"kind": "trade_union", "established_on": "2025-06-01"}),
]
ENTERPRISE = {"uscc": "91450503MA5KXXXX0X", "name": "北海市侨港海产品加工有限公司", "unit_type": "private_enterprise",
              "township_id": "qiaogang", "industry": "制造业", "employees": 45, "full_members": 3,
              "registered_on": "2024-01-15"}
BRANCH = {"enterprise_ids": ["e1", "e2", "e3"], "founding_mode": "joint", "organization_name": "侨港镇非公企业联合党支部",
          "approved_by": "中共侨港镇委员会", "approved_on": "2025-05-01", "founded_on": "2025-05-10"}
FLAG = {"organization_id": "o1", "campaign": "2026", "reasons": ["secretary_unfit"], "screened_on": "2026-01-10",
        "decided_on": "2026-01-20"}
CLASSIFY = {"grade": "lagging", "items": {"good_leadership": False, "good_membership": True},
            "classified_on": "2026-01-10"}


# -- commands: subject and data ---------------------------------------------------------------------
LIFECYCLE_REPLIES = {  # what the service answers besides the organization id
    "merge_organization": {"into_organization_id": "o2", "members_moved": 12},
    "elect_committee": {"term_ends_on": "2030-04-01", "secretary_only": True},
}


@pytest.mark.parametrize("segment, name, body", LIFECYCLE)
def test_lifecycle_commands_merge_the_organization_id(http, fake, segment, name, body):
    reply = {"organization_id": "o1", **LIFECYCLE_REPLIES.get(name, {})}
    fake.answer("cmd", name, reply, seq=21)
    r = http.post(f"{BASE}/organizations/o1/{segment}", json=body, headers=token())
    assert r.status_code == 200, r.text
    assert r.json() == {**reply, "seq": 21} and r.headers["dangjian-seq"] == "21"
    subject, data = fake.last
    assert subject == f"pb.{COUNTY}.cmd.organizations.{name}"
    assert data["organization_id"] == "o1"
    assert {k: v for k, v in data.items() if k != "organization_id"} == {**{
        k: None for k in ("to_parent_id", "to_township_id") if segment == "transfer"}, **body}


@pytest.mark.parametrize("segment, name, body", CASE_STEPS)
def test_case_steps_merge_the_case_id(http, fake, segment, name, body):
    fake.answer("cmd", name, {"case_id": "2026.o1"}, seq=30)
    r = http.post(f"{BASE}/rectification-cases/2026.o1/{segment}", json=body, headers=token())
    assert r.status_code == 200, r.text
    subject, data = fake.last
    assert subject == f"pb.{COUNTY}.cmd.organizations.{name}"
    assert data == {"case_id": "2026.o1", **body}


@pytest.mark.parametrize("segment, name, body", ENTERPRISE_STEPS)
def test_enterprise_commands_merge_the_enterprise_id(http, fake, segment, name, body):
    fake.answer("cmd", name, {"enterprise_id": "e1"}, seq=8)
    r = http.post(f"{BASE}/enterprises/e1/{segment}", json=body, headers=token("township_operator",
                                                                               township="qiaogang"))
    assert r.status_code == 200, r.text
    subject, data = fake.last
    assert subject == f"pb.{COUNTY}.cmd.organizations.{name}"
    assert data == {"enterprise_id": "e1", **body}
    assert forwarded_actor(fake.calls[-1][1]).township == "qiaogang"


def test_chinese_aliases_are_normalized_at_the_edge(http, fake):
    fake.answer("cmd", "close_enterprise", {"enterprise_id": "e1"})
    fake.answer("cmd", "record_mass_organization", {"enterprise_id": "e1"})
    r = http.post(f"{BASE}/enterprises/e1/closure", json={"status": "注销", "closed_on": "2025-06-01",
                                                         "reason": "注销登记"}, headers=token())
    assert r.status_code == 200 and fake.last[1]["status"] == "deregistered"
    r = http.post(f"{BASE}/enterprises/e1/mass-organizations", json={"kind": "工会", "established_on": "2025-06-01"},
                  headers=token())
    assert r.status_code == 200 and fake.last[1]["kind"] == "trade_union"


def test_register_enterprise_and_found_a_branch_are_created(http, fake):
    fake.answer("cmd", "register_enterprise", {"enterprise_id": "e1", "uscc": ENTERPRISE["uscc"]}, seq=3)
    r = http.post(f"{BASE}/enterprises", json={**ENTERPRISE, "uscc": " 91450503ma5kxxxx0x "}, headers=token())
    assert r.status_code == 201, r.text
    sent = fake.last[1]
    assert sent["uscc"] == ENTERPRISE["uscc"]  # normalized, validated by the service (with the reason)
    assert sent["operating_status"] == "operating" and sent["probationary_members"] == 0
    warnings = ["联合组建覆盖6个单位，超过5个"]
    fake.answer("cmd", "found_enterprise_branch", {"organization_id": "ob", "enterprise_ids": ["e1", "e2", "e3"],
                                                   "warnings": warnings}, seq=4)
    r = http.post(f"{BASE}/enterprise-branches", json={**BRANCH, "founding_mode": "联合组建"}, headers=token())
    assert r.status_code == 201, r.text
    assert r.json()["warnings"] == warnings and r.json()["seq"] == 4
    assert fake.last == (f"pb.{COUNTY}.cmd.organizations.found_enterprise_branch",
                         {**BRANCH, "organization_id": None})


def test_flag_weak_creates_a_case(http, fake):
    fake.answer("cmd", "flag_organization_weak", {"case_id": "2026.o1", "relapse_of": None}, seq=11)
    r = http.post(f"{BASE}/rectification-cases", json=FLAG, headers=token())
    assert r.status_code == 201, r.text
    assert r.json() == {"case_id": "2026.o1", "relapse_of": None, "seq": 11}
    assert fake.last[1] == FLAG


def test_classification_takes_year_and_organization_from_the_path(http, fake):
    fake.answer("cmd", "classify_organization", {"organization_id": "o1", "year": 2025}, seq=5)
    r = http.put(f"{BASE}/organizations/o1/classifications/2025", json=CLASSIFY, headers=token())
    assert r.status_code == 200, r.text
    assert fake.last == (f"pb.{COUNTY}.cmd.organizations.classify_organization",
                         {"organization_id": "o1", "year": 2025, "note": None, **CLASSIFY})
    calls = len(fake.calls)
    r = http.put(f"{BASE}/organizations/o1/classifications/2025", json={**CLASSIFY, "year": 2025}, headers=token())
    assert "body.year" in fields(assert_problem(r, 422, "invalid_input"))
    r = http.put(f"{BASE}/organizations/o1/classifications/1999", json=CLASSIFY, headers=token())
    assert "path.year" in fields(assert_problem(r, 422, "invalid_input"))
    assert len(fake.calls) == calls


def test_rules_are_adopted_and_read(http, fake):
    from services.organizations.rules.baseline import NATIONAL_BASELINE

    table = NATIONAL_BASELINE.model_copy(update={"effective_from": date(2026, 1, 1)})
    body = table.model_dump(mode="json")
    fake.answer("cmd", "adopt_rules", {"effective_from": "2026-01-01"}, seq=2)
    r = http.put(f"{BASE}/rules", json=body, headers=token())
    assert r.status_code == 200, r.text
    assert fake.last == (f"pb.{COUNTY}.cmd.organizations.adopt_rules", body)
    fake.answer("qry", "rules", {"as_of": "2026-02-01", "in_force": body, "versions": [body]})
    r = http.get(f"{BASE}/rules", params={"as_of": "2026-02-01"}, headers=token("auditor"))
    assert r.status_code == 200 and r.json()["in_force"] == body
    assert fake.last[1] == {"as_of": "2026-02-01"}
    http.get(f"{BASE}/rules", headers=token())
    assert fake.last[1] == {}
    bad = {**body, "setting": [{"code": "x", "threshold": "many", "severity": "always", "description": "d"}]}
    errors = fields(assert_problem(http.put(f"{BASE}/rules", json=bad, headers=token()), 422, "invalid_input"))
    assert "body.setting.0.threshold" in errors and "body.setting.0.severity" in errors


# -- queries ----------------------------------------------------------------------------------------
CASE = {"case_id": "2026.o1", "organization_id": "o1", "organization_name": "侨港村党支部", "township_id": "qiaogang",
        "campaign": "2026", "reasons": ["secretary_unfit"], "status": "flagged", "decided_on": "2026-01-20",
        "overdue": False, "in_follow_up": False}
EMPTY_REPLIES = {  # a valid answer of each query (the gateway checks replies against the reply models)
    "election_reminders": {"items": []},
    "classification_history": {"organizations": {}, "by_year": {}},
    "list_rectification_cases": {"total": 0, "items": [], "by_township": {}, "by_reason": {}, "overdue": 0},
    "rectification_case": {**CASE, "timeline": []},
    "rectification_summary": {"by_campaign": [], "by_year": [], "overdue": [], "relapses": []},
    "list_enterprises": {"total": 0, "items": []},
    "coverage": {"as_of": "2025-12-31", "rows": [], "targets": [], "members_without_organization": [],
                 "no_organization_no_instructor": []},
    "coverage_series": {"months": []},
}


@pytest.mark.parametrize("url, name, data", [
    ("/election-reminders", "election_reminders", {}),
    ("/classifications", "classification_history", {}),
    ("/classifications?organization_id=o1", "classification_history", {"organization_id": "o1"}),
    ("/rectification-cases", "list_rectification_cases", {}),
    ("/rectification-cases?campaign=2026&township_id=qiaogang&reason=secretary_unfit&status=open",
     "list_rectification_cases", {"campaign": "2026", "township_id": "qiaogang", "reason": "secretary_unfit",
                                  "status": "open"}),
    ("/rectification-cases/2026.o1", "rectification_case", {"case_id": "2026.o1"}),
    ("/rectification-summary", "rectification_summary", {}),
    ("/enterprises", "list_enterprises", {}),
    ("/enterprises?township_id=qiaogang", "list_enterprises", {"township_id": "qiaogang"}),
    ("/coverage", "coverage", {}),
    ("/coverage?as_of=2025-12-31", "coverage", {"as_of": "2025-12-31"}),
    ("/coverage/series?from_month=2025-01&to_month=2025-06-15", "coverage_series",
     {"from_month": "2025-01-01", "to_month": "2025-06-15"}),
])
def test_queries_forward_their_parameters(http, fake, url, name, data):
    fake.answer("qry", name, EMPTY_REPLIES[name])
    r = http.get(BASE + url, headers=token("auditor"))
    assert r.status_code == 200, r.text
    assert fake.last == (f"pb.{COUNTY}.qry.organizations.{name}", data)


@pytest.mark.parametrize("url, field", [
    ("/rectification-cases/2026", "path.case_id"),
    ("/rectification-cases/2026.o1.x", "path.case_id"),
    ("/rectification-cases?status=closed", "query.status"),
    ("/rectification-cases?reason=Bad-Reason", "query.reason"),
    ("/coverage?as_of=2025-13-01", "query.as_of"),
    ("/coverage/series?from_month=2025-01", "query.to_month"),
    ("/coverage/series?from_month=2025-13&to_month=2026-01", "query.from_month"),
    ("/coverage/series?from_month=2025-06&to_month=2025-01", "query.to_month"),
    ("/coverage/series?from_month=June&to_month=2025-01", "query.from_month"),
    ("/enterprises?township_id=a.b", "query.township_id"),
    ("/classifications?organization_id=a%20b", "query.organization_id"),
])
def test_bad_query_and_path_values_are_422_with_the_field(http, fake, url, field):
    assert field in fields(assert_problem(http.get(BASE + url, headers=token()), 422, "invalid_input"))
    assert fake.calls == []


# -- downloads --------------------------------------------------------------------------------------
WORKBOOK = b"PK\x03\x04 fake xlsx bytes"


@pytest.mark.parametrize("url, name, data, filename, fallback", [
    ("/coverage.xlsx?as_of=2025-12-31", "coverage_export", {"as_of": "2025-12-31"},
     f"两新组织覆盖情况_{COUNTY}_2025-12-31.xlsx", f"coverage_{COUNTY}_2025-12-31.xlsx"),
    ("/coverage.xlsx", "coverage_export", {}, f"两新组织覆盖情况_{COUNTY}_2026-01-01.xlsx", f"coverage_{COUNTY}.xlsx"),
    ("/rectification-ledger.xlsx?campaign=2026&status=rectified", "rectification_ledger_export",
     {"campaign": "2026", "status": "rectified"}, f"软弱涣散党组织整顿台账_{COUNTY}.xlsx",
     f"rectification-ledger_{COUNTY}.xlsx"),
])
def test_exports_are_file_downloads(http, fake, url, name, data, filename, fallback):
    fake.answer("qry", name, {"filename": filename, "content_b64": base64.b64encode(WORKBOOK).decode()}, seq=17)
    r = http.get(BASE + url, headers=token("auditor"))
    assert r.status_code == 200, r.text
    assert r.content == WORKBOOK
    assert r.headers["content-type"] == XLSX
    disposition = r.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=UTF-8''{quote(filename)}" in disposition
    assert f'filename="{fallback}"' in disposition
    disposition.encode("latin-1")  # a header must be Latin-1: the Chinese name travels percent-encoded only
    assert r.headers["dangjian-seq"] == "17"
    assert fake.last == (f"pb.{COUNTY}.qry.organizations.{name}", data)


def test_export_reads_after_the_clients_writes(http, fake):
    fake.answer("cmd", "flag_organization_weak", {"case_id": "2026.o1", "relapse_of": None}, seq=40)
    fake.answer("qry", "rectification_ledger_export", {"filename": "台账.xlsx", "content_b64": ""})
    http.post(f"{BASE}/rectification-cases", json=FLAG, headers=token())
    http.get(f"{BASE}/rectification-ledger.xlsx", headers=token())
    assert fake.calls[-1][1]["min_seq"] == 40


def test_a_broken_export_reply_is_502(http, fake):
    fake.answer("qry", "coverage_export", {"filename": "x.xlsx", "content_b64": "not base64!"})
    assert_problem(http.get(f"{BASE}/coverage.xlsx", headers=token()), 502, "bad_gateway")
    fake.answer("qry", "coverage_export", {"rows": []})
    assert_problem(http.get(f"{BASE}/coverage.xlsx", headers=token()), 502, "bad_gateway")


def test_export_refusal_stays_a_problem(http, fake):
    fake.replies[f"pb.{COUNTY}.qry.organizations.coverage_export"] = {"ok": False, "error": {
        "code": "forbidden", "detail": "无权导出 / not yours", "status": 403, "errors": []}}
    assert_problem(http.get(f"{BASE}/coverage.xlsx", headers=token()), 403, "forbidden")


# -- import -----------------------------------------------------------------------------------------
def test_enterprise_import_forwards_the_file(http, fake):
    fake.answer("cmd", "import_enterprises", {"imported": 2, "already_imported": 0, "import_id": "i1"}, seq=9)
    csv = "统一社会信用代码,单位名称\n91450503MA5KXXXX0X,某公司\n".encode()
    r = http.post(f"{BASE}/enterprises/import", files={"file": ("两新组织台账.csv", csv, "text/csv")}, headers=token())
    assert r.status_code == 201, r.text
    assert r.json() == {"imported": 2, "already_imported": 0, "import_id": "i1", "seq": 9}
    assert fake.last == (f"pb.{COUNTY}.cmd.organizations.import_enterprises",
                         {"filename": "两新组织台账.csv", "content_b64": base64.b64encode(csv).decode()})


def test_enterprise_import_refuses_other_files(http, fake):
    url = f"{BASE}/enterprises/import"
    r = http.post(url, files={"file": ("units.pdf", b"%PDF", "application/pdf")}, headers=token())
    assert "body.file" in fields(assert_problem(r, 422, "invalid_file"))
    assert_problem(http.post(url, files={"file": ("u.xlsx", b"", XLSX)}, headers=token()), 422, "invalid_file")
    assert_problem(http.post(url, headers=token()), 422, "invalid_input")
    assert_problem(http.post(url, files={"file": ("u.csv", b"x", "text/csv")}, headers=token("auditor")), 403,
                   "forbidden")
    assert fake.calls == []


# -- validation -------------------------------------------------------------------------------------
@pytest.mark.parametrize("method, url, body, expected", [
    ("post", "/enterprises", {**ENTERPRISE, "employees": -1, "unit_type": "国企", "colour": "red"},
     {"body.employees", "body.unit_type", "body.colour"}),
    ("post", "/enterprises", {k: v for k, v in ENTERPRISE.items() if k != "uscc"}, {"body.uscc"}),
    ("post", "/enterprise-branches", {**BRANCH, "enterprise_ids": ["e1", "e1"]}, {"body.enterprise_ids"}),
    ("post", "/enterprise-branches", {**BRANCH, "founding_mode": "alone", "founded_on": "soon"},
     {"body.founding_mode", "body.founded_on"}),
    ("post", "/enterprises/e1/instructor", {"person_name": "陈海生", "role": "boss", "assigned_on": "2025-06-01"},
     {"body.role"}),
    ("post", "/rectification-cases", {**FLAG, "campaign": "2026.1", "organization_id": ""},
     {"body.campaign", "body.organization_id"}),
    ("post", "/rectification-cases/2026.o1/plan", {"plan": "", "due_on": "2026-12-31"}, {"body.plan"}),
    ("post", "/organizations/o1/committee", {"elected_on": "2025-04-01", "committee": []}, {"body.committee"}),
    ("post", "/organizations/o1/upgrade", {**APPROVED, "to_type": "castle"}, {"body.to_type"}),
    ("put", "/organizations/o1/classifications/2025", {**CLASSIFY, "grade": "excellent"}, {"body.grade"}),
])
def test_bad_bodies_are_422_problems_naming_the_fields(http, fake, method, url, body, expected):
    r = http.request(method, BASE + url, json=body, headers=token())
    assert expected <= set(fields(assert_problem(r, 422, "invalid_input")))
    assert fake.calls == []


def test_service_refusals_pass_through(http, fake):
    fake.replies[f"pb.{COUNTY}.cmd.organizations.accept_rectification"] = {"ok": False, "error": {
        "code": "not_flagged", "detail": "2026.o9 未列入软弱涣散党组织整顿", "status": 404, "errors": []}}
    r = http.post(f"{BASE}/rectification-cases/2026.o9/acceptance",
                  json={"accepted_on": "2026-10-01", "accepted_by": "县委组织部"}, headers=token())
    assert "未列入" in assert_problem(r, 404, "not_flagged")["detail"]
    fake.replies[f"pb.{COUNTY}.cmd.organizations.register_enterprise"] = {"ok": False, "error": {
        "code": "uscc_bad_check_character", "detail": "统一社会信用代码校验位（第18位）错误", "status": 422,
        "errors": [{"field": "uscc", "message": "统一社会信用代码校验位（第18位）错误"}]}}
    r = http.post(f"{BASE}/enterprises", json=ENTERPRISE, headers=token())
    assert fields(assert_problem(r, 422, "uscc_bad_check_character")) == {"uscc": "统一社会信用代码校验位（第18位）错误"}


# -- authorization ----------------------------------------------------------------------------------
WRITES = [
    *[("post", f"/organizations/o1/{segment}", body) for segment, _, body in LIFECYCLE],
    *[("post", f"/rectification-cases/2026.o1/{segment}", body) for segment, _, body in CASE_STEPS],
    *[("post", f"/enterprises/e1/{segment}", body) for segment, _, body in ENTERPRISE_STEPS],
    ("post", "/enterprises", ENTERPRISE),
    ("post", "/enterprise-branches", BRANCH),
    ("post", "/rectification-cases", FLAG),
    ("put", "/organizations/o1/classifications/2025", CLASSIFY),
    ("put", "/rules", {"setting": [], "terms": [], "weak_reasons": []}),
]


@pytest.mark.parametrize("method, url, body", WRITES)
def test_auditors_never_write(http, fake, method, url, body):
    r = http.request(method, BASE + url, json=body, headers=token("auditor"))
    assert_problem(r, 403, "forbidden")
    assert fake.calls == []


@pytest.mark.parametrize("method, url, body", [WRITES[0], WRITES[-3], ("get", "/coverage", None),
                                               ("get", "/coverage.xlsx", None)])
def test_other_counties_are_403_and_no_token_401(http, fake, method, url, body):
    other = url and f"/api/v1/counties/{OTHER}{url}"
    assert_problem(http.request(method, other, json=body, headers=token()), 403, "forbidden")
    assert_problem(http.request(method, BASE + url, json=body), 401, "unauthenticated")
    assert fake.calls == []


# -- OpenAPI ----------------------------------------------------------------------------------------
def test_openapi_documents_the_new_routes(http):
    spec = http.get("/openapi.json").json()
    paths = spec["paths"]
    prefix = "/api/v1/counties/{county}"
    expected = {
        **{f"/organizations/{{organization_id}}/{s}": {"post"} for s, _, _ in LIFECYCLE},
        **{f"/rectification-cases/{{case_id}}/{s}": {"post"} for s, _, _ in CASE_STEPS},
        **{f"/enterprises/{{enterprise_id}}/{s}": {"post"} for s, _, _ in ENTERPRISE_STEPS},
        "/election-reminders": {"get"}, "/rules": {"get", "put"},
        "/organizations/{organization_id}/classifications/{year}": {"put"}, "/classifications": {"get"},
        "/rectification-cases": {"get", "post"}, "/rectification-cases/{case_id}": {"get"},
        "/rectification-summary": {"get"}, "/rectification-ledger.xlsx": {"get"},
        "/enterprises": {"get", "post"}, "/enterprises/import": {"post"}, "/enterprise-branches": {"post"},
        "/coverage": {"get"}, "/coverage/series": {"get"}, "/coverage.xlsx": {"get"},
    }
    for path, methods in expected.items():
        assert methods <= set(paths.get(prefix + path, {})), path
    schemas = spec["components"]["schemas"]
    assert {"RenameOrganization", "ElectCommittee", "RuleTable", "ClassificationEntry", "FlagOrganizationWeak",
            "PlanRectification", "RegisterEnterprise", "FoundEnterpriseBranch", "UpdateHeadcount"} <= set(schemas)
    assert "year" not in schemas["ClassificationEntry"]["properties"]
    operation = paths[prefix + "/organizations/{organization_id}/rename"]["post"]
    assert operation["operationId"] == "rename_organization"
    assert operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/RenameOrganization")
    download = paths[prefix + "/coverage.xlsx"]["get"]["responses"]
    assert XLSX in download["200"]["content"] and "application/problem+json" in download["422"]["content"]
