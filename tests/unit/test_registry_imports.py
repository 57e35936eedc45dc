"""The registry imports of issue 12, pure: every template the API hands out imports through its own
parser without an error; the development ledger and the mobile-member registry record each row's steps
as the single commands do, only the steps not yet recorded, and refuse the file naming row and column."""
from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import load_workbook

from shared.catalog.organizations import MemberRegistered, OrganizationEstablished
from shared.errors import DomainError
from services.gateway.pages.workbooks import error_workbook
from services.gateway.registry_imports import TEMPLATES, template_response
from services.organizations.centres.centre_sheet import parse_centre_file
from services.organizations.development.applicant_sheet import (applicant_id_of, parse_applicant_file,
                                                                record_applicants)
from services.organizations.development.domain import Applicant
from services.organizations.mobile.domain import MobileRecord
from services.organizations.mobile.member_sheet import parse_mobile_file, record_mobile
from services.organizations.mobile.point_import import parse_point_file
from services.organizations.posts.post_sheet import parse_post_file
from services.organizations.registry.domain import Member, Organization
from services.organizations.rooms.room_sheet import parse_room_file
from services.organizations.rules.domain import RuleBook

TODAY = date(2026, 6, 30)
BRANCHES = {"qg": "qg", "侨港镇侨港村党支部": "qg"}
TOWNSHIPS = {"qiaogang": "qiaogang", "侨港镇": "qiaogang"}


def xlsx(kind: str) -> bytes:
    return template_response(kind).body


def test_every_template_imports_through_its_own_parser():
    assert set(TEMPLATES) == {"applicants", "mobile-members", "mobile-service-points", "centres", "posts", "rooms"}
    assert not parse_centre_file("t.xlsx", xlsx("centres"), TOWNSHIPS, BRANCHES).errors
    assert parse_post_file("t.xlsx", xlsx("posts"), BRANCHES)[1] == []
    assert parse_room_file("t.xlsx", xlsx("rooms"), TOWNSHIPS)[1] == []
    assert parse_point_file("t.xlsx", xlsx("mobile-service-points"))[2] == []
    rows, errors = parse_applicant_file("450503", "t.xlsx", xlsx("applicants"), BRANCHES)
    assert errors == [] and rows[0].candidate is not None and rows[0].activist.training_contacts == ["张秀玲", "李卫东"]
    rows, errors = parse_mobile_file("t.xlsx", xlsx("mobile-members"), BRANCHES, {("qg", "张秀玲"): "m1"},
                                     {"深圳北海商会流动党员服务站": "sp1"})
    assert errors == [] and rows[0].registration.service_point_id == "sp1"
    header = [c.value for c in load_workbook(io.BytesIO(xlsx("rooms"))).active[1]]
    assert header == TEMPLATES["rooms"][1]


def branch() -> Organization:
    org = Organization("qg")
    org.apply(OrganizationEstablished(organization_id="qg", name="侨港镇侨港村党支部", organization_type="branch",
                                      host_unit_type="village", township_id="qiaogang", approved_by="中共侨港镇委员会",
                                      approved_on=date(2019, 5, 4)))
    return org


SHEET = ("姓名,性别,出生日期,所在支部,申请日期,接收人,确定积极分子日期,培养联系人,确定发展对象日期\n"
         "黄小燕,女,1996-03-08,侨港镇侨港村党支部,2024-03-01,李卫东,2024-09-01,张秀玲、李卫东,{candidate}\n"
         "刘芳,女,2000-01-02,qg,2026-01-10,李卫东,,,\n")


def run_applicants(sheet: str, states: dict[str, Applicant]):
    rows, errors = parse_applicant_file("450503", "a.csv", sheet.encode(), BRANCHES)
    assert errors == []
    for r in rows:
        states.setdefault(r.application.applicant_id, Applicant(r.application.applicant_id))
    decision = record_applicants(rows, states, {"qg": branch()}, RuleBook("450503"), today=TODAY)
    for aggregate, events in decision.changes:
        for e in events:
            states[aggregate.id].apply(e)
    return decision


def test_the_development_ledger_records_each_step_once_and_a_later_sheet_only_what_is_new():
    states: dict[str, Applicant] = {}
    first = run_applicants(SHEET.format(candidate=""), states)
    assert (first.answer.imported, first.answer.steps) == (2, 3)  # two applications, one activist
    huang = states[applicant_id_of("450503", "qg", "黄小燕", date(1996, 3, 8))]
    assert huang.stage == "activist"
    again = run_applicants(SHEET.format(candidate=""), states)
    assert (again.answer.imported, again.answer.already_imported, again.changes) == (0, 2, [])
    later = run_applicants(SHEET.format(candidate="2025-10-08"), states)
    assert later.answer.steps == 1 and huang.stage == "candidate"


def test_a_step_the_rules_refuse_refuses_the_file_naming_row_and_column():
    too_soon = SHEET.format(candidate="2025-03-01")  # six months as an activist, the rules ask twelve
    with pytest.raises(DomainError) as refused:
        run_applicants(too_soon, {})
    assert refused.value.code == "import_rejected"
    assert [e.field for e in refused.value.errors] == ["row 2: designated_on"]
    rows, errors = parse_applicant_file("450503", "a.csv", "姓名,性别,出生日期,所在支部,申请日期,接收人\n"
                                        "王五,男,1990-01-01,不存在的支部,2026-01-01,李卫东\n".encode(), BRANCHES)
    assert rows == [] and [(e.row, e.field) for e in errors] == [(2, "branch_id")]


def member(member_id: str = "m1") -> Member:
    m = Member(member_id)
    m.apply(MemberRegistered(member_id=member_id, name="张秀玲", gender="female", birth_date=date(1980, 5, 1),
                             membership_status="full", joined_on=date(2010, 7, 1), branch_id="qg"))
    return m


def test_mobile_rows_record_away_then_register_and_a_known_departure_adds_nothing():
    sheet = "党员,所在支部,外出日期,外出地点,联系方式,登记日期\n张秀玲,qg,2025-01-10,广东省深圳市,13800000000,{reg}\n"
    records = {"m1": MobileRecord("m1")}

    def run(text: str):
        rows, errors = parse_mobile_file("m.csv", text.encode(), BRANCHES, {("qg", "张秀玲"): "m1"}, {})
        assert errors == []
        decision = record_mobile(rows, records, {"m1": member()}, {}, RuleBook("450503"), today=TODAY)
        for aggregate, events in decision.changes:
            for e in events:
                records["m1"].apply(e)
        return decision.answer
    assert run(sheet.format(reg="")).away == 1 and records["m1"].status == "away"
    _, errors = parse_mobile_file("m.csv", sheet.format(reg="2025-08-01").encode(), BRANCHES,
                                  {("qg", "张秀玲"): "m1"}, {})
    assert [(e.row, "流入地党组织或服务站点" in e.message) for e in errors] == [(2, True)]  # no receiving side
    too_soon = sheet.replace("登记日期\n", "登记日期,接收党组织\n").replace("{reg}", "2025-05-01,龙岗区党支部")
    with pytest.raises(DomainError) as refused:  # four months away: not yet mobile (rule table: six)
        run(too_soon)
    assert [e.field for e in refused.value.errors] == ["row 2: away_since"]
    with_point = sheet.replace("登记日期\n", "登记日期,接收党组织\n").replace("{reg}", "2025-08-01,深圳市龙岗区流动党员党支部")
    assert run(with_point).registered == 1 and records["m1"].status == "mobile"
    assert run(with_point).already_imported == 1


def test_the_error_workbook_puts_each_error_beside_its_row():
    content = SHEET.format(candidate="").encode()
    book = load_workbook(io.BytesIO(error_workbook("a.csv", content, [
        {"field": "row 3: applied_on", "message": "申请日期有误"}, {"field": "file", "message": "整体"}])))
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0][:3] == ("行号", "错误", "姓名") and rows[2][0] == 3 and "applied_on" in rows[2][1]


def test_a_pipeline_row_stands_at_the_step_it_had_reached_on_a_date():
    from services.organizations.development.ledger import stage_as_of
    row = {"stage": "cancelled", "applied_on": date(2023, 1, 5), "activist_on": date(2023, 3, 1),
           "candidate_on": date(2024, 4, 1), "admitted_on": date(2024, 7, 1), "full_from": None,
           "ended_on": date(2025, 8, 1)}
    assert [stage_as_of(row, date(y, m, d)) for y, m, d in ((2023, 1, 4), (2023, 1, 5), (2023, 6, 1), (2024, 5, 1),
                                                            (2025, 7, 31), (2025, 8, 1))] == [
        None, "applicant", "activist", "candidate", "probationary", "cancelled"]


def test_mobile_records_fold_as_of_a_date():
    from shared.catalog.mobile import MemberAwayRecorded, MobileMemberRegistered, MobileMemberReturned
    from services.organizations.mobile.ledger import fold_as_of
    log = [MemberAwayRecorded(member_id="m1", away_since=date(2025, 1, 10), destination="广东省深圳市", branch_id="qg"),
           MobileMemberRegistered(member_id="m1", away_since=date(2025, 1, 10), destination="广东省深圳市",
                                  contact="138", service_point_id="sp1", registered_on=date(2025, 8, 1), branch_id="qg"),
           MobileMemberReturned(member_id="m1", returned_on=date(2026, 2, 1))]
    assert fold_as_of(log, date(2025, 1, 9)) == {}
    assert fold_as_of(log, date(2025, 7, 31))["m1"]["status"] == "away"
    assert fold_as_of(log, date(2025, 8, 1))["m1"]["service_point_id"] == "sp1"
    assert fold_as_of(log, date(2026, 2, 1))["m1"]["status"] == "returned"
