"""Member spreadsheets -> RegisterMember commands and per-row errors (no log, no network)."""
from __future__ import annotations

import io
from datetime import date, datetime

from openpyxl import Workbook

from services.organizations.registry.member_import import MAX_ROWS, RowError, parse_member_file

BRANCHES = {"haixian-branch": "haixian-branch", "侨港镇海鲜街社区党支部": "haixian-branch",
            "fisher-branch": "fisher-branch", "侨港镇渔业党支部": "fisher-branch"}

CSV = """姓名,性别,出生日期,党员类型,入党日期,所在支部,备注
张秀玲,女,1978-04-12,正式党员,2003/7/1,侨港镇海鲜街社区党支部,
陈海生,男,1990.11.3,预备党员,2024年7月1日,fisher-branch,渔船船长
"""


def xlsx(rows) -> bytes:
    wb = Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_csv_utf8_with_bom():
    plan = parse_member_file("党员花名册.csv", b"\xef\xbb\xbf" + CSV.encode("utf-8"), BRANCHES)
    assert plan.ok and plan.errors == []
    zhang, chen = plan.rows
    assert (zhang.name, zhang.gender, zhang.membership_status) == ("张秀玲", "female", "full")
    assert (zhang.birth_date, zhang.joined_on, zhang.branch_id) == (date(1978, 4, 12), date(2003, 7, 1),
                                                                    "haixian-branch")
    assert (chen.gender, chen.membership_status, chen.birth_date, chen.joined_on) == (
        "male", "probationary", date(1990, 11, 3), date(2024, 7, 1))
    assert chen.branch_id == "fisher-branch"


def test_csv_gb18030_and_stable_member_ids():
    plan = parse_member_file("members.csv", CSV.encode("gb18030"), BRANCHES)
    assert plan.ok and [r.name for r in plan.rows] == ["张秀玲", "陈海生"]
    again = parse_member_file("members.csv", CSV.encode("utf-8"), BRANCHES)
    assert [r.member_id for r in plan.rows] == [r.member_id for r in again.rows]  # re-import: same members
    assert len({r.member_id for r in plan.rows}) == 2


def test_english_headers_and_values():
    text = ("Name,Gender,Birth_Date,Membership_Status,Joined_On,Branch\n"
            "Zhang Xiuling,female,1978-04-12,full,20030701,haixian-branch\n")
    plan = parse_member_file("members.csv", text.encode(), BRANCHES)
    assert plan.ok and plan.rows[0].joined_on == date(2003, 7, 1)


def test_alternative_chinese_headers_and_empty_rows():
    text = ("\n姓名,性别,人员类别,入党时间,党支部\n"
            ",,,,\n"
            "张秀玲,女,正式党员,2003-07-01,haixian-branch\n")
    plan = parse_member_file("members.csv", text.encode(), BRANCHES)
    assert plan.ok and plan.rows[0].birth_date is None


def test_xlsx_with_date_cells_and_a_bad_row():
    content = xlsx([
        ["姓名", "性别", "出生日期", "党员状态", "入党日期", "所在支部"],
        ["张秀玲", "女", datetime(1978, 4, 12), "正式党员", datetime(2003, 7, 1), "侨港镇海鲜街社区党支部"],
        [None, None, None, None, None, None],
        ["陈海生", "未知", "1990-13-40", "群众", None, "铁山港区某支部"],
        ["黄丽", "女", "2010-05-01", "预备党员", "2024/7/1", "fisher-branch"],
        ["梁志强", "男", "1982.3.8", "正式党员", "2008年6月30日", "侨港镇渔业党支部"],
    ])
    plan = parse_member_file("银海区党员.xlsx", content, BRANCHES)
    assert not plan.ok
    assert [r.name for r in plan.rows] == ["张秀玲", "梁志强"]
    assert plan.rows[0].birth_date == date(1978, 4, 12) and plan.rows[0].joined_on == date(2003, 7, 1)
    assert {(e.row, e.field) for e in plan.errors} == {
        (4, "gender"), (4, "birth_date"), (4, "membership_status"), (4, "joined_on"), (4, "branch_id"),
        (5, "birth_date"),  # 14 years old when joining
    }
    under_age = next(e for e in plan.errors if e.row == 5)
    assert "十八" in under_age.message and "18" in under_age.message
    assert all(" / " in e.message for e in plan.errors), "messages are Chinese + English"


def test_xlsx_excel_serial_numbers_as_dates():
    content = xlsx([["姓名", "性别", "党员类型", "入党日期", "所在支部"],
                    ["张秀玲", "女", "正式党员", 37803, "haixian-branch"]])  # 37803 = 2003-07-01
    plan = parse_member_file("m.xlsx", content, BRANCHES)
    assert plan.ok and plan.rows[0].joined_on == date(2003, 7, 1)


def test_missing_required_column_is_one_error_on_row_1():
    plan = parse_member_file("m.csv", "姓名,性别,入党日期,所在支部\n张秀玲,女,2003-07-01,haixian-branch\n".encode(),
                             BRANCHES)
    assert plan.errors == [RowError(1, "membership_status", plan.errors[0].message)]
    assert "党员类型" in plan.errors[0].message and plan.rows == [] and not plan.ok


def test_duplicate_rows_flag_the_later_row():
    text = ("姓名,性别,出生日期,党员类型,入党日期,所在支部\n"
            "张秀玲,女,1978-04-12,正式党员,2003-07-01,haixian-branch\n"
            "陈海生,男,1990-11-03,预备党员,2024-07-01,fisher-branch\n"
            "张秀玲,女,1978/4/12,正式党员,2003-07-01,侨港镇海鲜街社区党支部\n"
            "张秀玲,女,1978-04-12,正式党员,2003-07-01,fisher-branch\n")
    plan = parse_member_file("m.csv", text.encode(), BRANCHES)
    assert [(e.row, e.field) for e in plan.errors] == [(4, "name")]
    assert "第 2 行" in plan.errors[0].message
    assert [(r.name, r.branch_id) for r in plan.rows] == [
        ("张秀玲", "haixian-branch"), ("陈海生", "fisher-branch"), ("张秀玲", "fisher-branch")]


def test_too_many_rows_is_one_error():
    row = "张秀玲,女,,正式党员,2003-07-01,haixian-branch\n"
    text = "姓名,性别,出生日期,党员类型,入党日期,所在支部\n" + row * (MAX_ROWS + 1)
    plan = parse_member_file("m.csv", text.encode(), BRANCHES)
    assert len(plan.errors) == 1 and plan.errors[0].field == "file" and plan.rows == []


def test_unreadable_or_empty_files():
    for name, content in [("m.xlsx", b"PK\x03\x04 not really a zip"), ("m.xls", b"\xd0\xcf\x11\xe0old"),
                          ("m.csv", b""), ("m.csv", "姓名,性别\n".encode())]:
        plan = parse_member_file(name, content, BRANCHES)
        assert not plan.ok and plan.errors and plan.errors[0].row == 1 and plan.rows == []


def test_header_only_file_is_not_ok():
    plan = parse_member_file("m.csv", "姓名,性别,党员类型,入党日期,所在支部\n".encode(), BRANCHES)
    assert plan.errors == [] and plan.rows == [] and not plan.ok
