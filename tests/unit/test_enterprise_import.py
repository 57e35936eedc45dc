"""Enterprise spreadsheets -> RegisterEnterprise commands and per-row errors (no log, no network)."""
from __future__ import annotations

import io
from datetime import date, datetime

from openpyxl import Workbook

from services.organizations.enterprises.enterprise_import import parse_enterprise_file
from services.organizations.enterprises.uscc import uscc_from_parts
from shared.ids import stable_id

TOWNSHIPS = {"qiaogang": "qiaogang", "侨港镇": "qiaogang", "yintan": "yintan", "银滩镇": "yintan"}
SEAFOOD = uscc_from_parts("450503", "MA5K3T01")
ASSOCIATION = uscc_from_parts("450503", "50000019", authority="5", type_code="1")
HOTEL = uscc_from_parts("450503", "MA5KQ001")

CSV = f"""统一社会信用代码,企业名称,类型,所属乡镇,行业,从业人员（人）,正式党员,预备党员,经营状态,固定场所,规模以上,登记日期,备注
{SEAFOOD},北海市某海产品加工有限公司,非公企业,侨港镇,制造业,86,4,1,正常经营,是,是,2019/3/1,
{ASSOCIATION},北海市侨港镇渔业协会,社会组织,qiaogang,"农、林、牧、渔业",35人,3,,在营,否,否,2020年5月8日,
"""


def xlsx(rows) -> bytes:
    wb = Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_csv_with_chinese_headers():
    plan = parse_enterprise_file("两新组织台账.csv", b"\xef\xbb\xbf" + CSV.encode("utf-8"), TOWNSHIPS)
    assert plan.ok and plan.row_numbers == [2, 3]
    seafood, association = plan.rows
    assert seafood.enterprise_id == stable_id("enterprise", SEAFOOD)
    assert (seafood.uscc, seafood.name, seafood.unit_type, seafood.township_id, seafood.industry) == (
        SEAFOOD, "北海市某海产品加工有限公司", "private_enterprise", "qiaogang", "制造业")
    assert (seafood.employees, seafood.full_members, seafood.probationary_members) == (86, 4, 1)
    assert (seafood.operating_status, seafood.fixed_premises, seafood.above_scale, seafood.registered_on) == (
        "operating", True, True, date(2019, 3, 1))
    assert (association.unit_type, association.employees, association.probationary_members) == (
        "social_organization", 35, 0)
    assert (association.fixed_premises, association.registered_on) == (False, date(2020, 5, 8))


def test_gb18030_csv_and_english_headers():
    text = (f"uscc,name,unit_type,township,industry,employees,full_members,operating_status,registered_on\n"
            f"{HOTEL.lower()},北海银滩某度假酒店有限公司,企业,yintan,住宿和餐饮业,40,3,停产,20180601\n")
    plan = parse_enterprise_file("hotels.csv", text.encode("gb18030"), TOWNSHIPS)
    assert plan.ok
    (hotel,) = plan.rows
    assert (hotel.uscc, hotel.operating_status, hotel.fixed_premises, hotel.above_scale) == (
        HOTEL, "suspended", True, False)


def test_xlsx_with_number_and_date_cells():
    plan = parse_enterprise_file("台账.xlsx", xlsx([
        ["统一社会信用代码", "单位名称", "单位类型", "乡镇", "行业", "职工人数", "正式党员", "登记日期"],
        [SEAFOOD, "北海市某海产品加工有限公司", "非公企业", "侨港镇", "制造业", 86, 4.0, datetime(2019, 3, 1)],
    ]), TOWNSHIPS)
    assert plan.ok and plan.rows[0].employees == 86 and plan.rows[0].registered_on == date(2019, 3, 1)


def test_row_errors_say_why():
    wrong_check = SEAFOOD[:-1] + ("0" if SEAFOOD[-1] != "0" else "1")
    text = "\n".join([
        "统一社会信用代码,单位名称,类型,乡镇,行业,从业人员,正式党员,预备党员,登记日期",
        f"{SEAFOOD},北海市某海产品加工有限公司,非公企业,侨港镇,制造业,86,4,1,2019-03-01",
        f"{SEAFOOD},北海市某海产品加工有限公司（重复）,非公企业,侨港镇,制造业,86,4,1,2019-03-01",
        f"{wrong_check},北海市某冷链物流有限公司,非公企业,侨港镇,交通运输业,20,1,0,2021-01-01",
        f"{SEAFOOD[:17]},北海市某渔具有限公司,非公企业,侨港镇,制造业,20,1,0,2021-01-01",
        f"{HOTEL},北海银滩某度假酒店有限公司,国有企业,北海镇,住宿和餐饮业,-3,2.5,x,2021-13-01",
        f"{ASSOCIATION},北海市侨港镇渔业协会,社会组织,侨港镇,渔业,3,3,1,2020-05-08",
    ])
    plan = parse_enterprise_file("台账.csv", text.encode(), TOWNSHIPS)
    assert not plan.ok and plan.row_numbers == [2]
    by_row: dict[int, dict[str, str]] = {}
    for e in plan.errors:
        by_row.setdefault(e.row, {})[e.field] = e.message
    assert set(by_row) == {3, 4, 5, 6, 7}
    assert "与第 2 行重复" in by_row[3]["uscc"]
    assert "校验位（第18位）错误" in by_row[4]["uscc"]
    assert "应为18位" in by_row[5]["uscc"]
    assert set(by_row[6]) == {"unit_type", "township_id", "employees", "full_members", "probationary_members",
                              "registered_on"}
    assert "北海镇" in by_row[6]["township_id"] and "非负整数" in by_row[6]["employees"]
    assert "超过从业人员数" in by_row[7]["full_members"]


def test_missing_columns_dates_and_empty_files():
    header_only = "统一社会信用代码,单位名称,类型\n".encode()
    plan = parse_enterprise_file("a.csv", header_only, TOWNSHIPS)
    assert {e.field for e in plan.errors} == {"township_id", "industry", "employees", "full_members", "registered_on"}
    no_dates = (f"统一社会信用代码,单位名称,类型,乡镇,行业,从业人员,正式党员\n"
                f"{SEAFOOD},北海市某海产品加工有限公司,非公企业,侨港镇,制造业,86,4\n").encode()
    assert parse_enterprise_file("b.csv", no_dates, TOWNSHIPS).errors[0].field == "registered_on"
    defaulted = parse_enterprise_file("b.csv", no_dates, TOWNSHIPS, default_registered_on=date(2025, 1, 1))
    assert defaulted.ok and defaulted.rows[0].registered_on == date(2025, 1, 1)
    assert parse_enterprise_file("c.csv", b"", TOWNSHIPS).errors[0].message.startswith("文件为空")
    assert "xlsx" in parse_enterprise_file("d.xls", b"\xd0\xcf\x11\xe0old", TOWNSHIPS).errors[0].message
