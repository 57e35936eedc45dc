"""Issue 3 over HTTP against the real services: 两新组织 and coverage (figures checked against numbers
computed here from the test's own input, also in the downloaded workbook), rectification of a weak
organization to its conversion, classification over two years, committee elections under the rule
table, and the CLI's import, coverage table and exports."""
from __future__ import annotations

import asyncio
import io
import json
from urllib.parse import quote

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from services.cli import app as cli
from services.gateway.files import XLSX
from services.organizations.enterprises.uscc import uscc_from_parts
from tests.conftest import new_county

DIVISION = "450503"  # the code's own division part (a real one), whatever county the test runs in


def problem(resp, status: int | tuple[int, ...]) -> dict:
    statuses = status if isinstance(status, tuple) else (status,)
    assert resp.status_code in statuses, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    body = resp.json()
    assert body["detail"] and body["code"]
    return body


async def new_county_with_townships(http, token, townships: dict[str, str]) -> tuple[str, dict]:
    code = new_county()
    r = await http.post("/api/v1/counties", json={"county_code": code, "name": "银海区"}, headers=token("platform_admin"))
    assert r.status_code == 201, r.text
    admin = token("county_admin", code)
    for township_id, name in townships.items():
        r = await http.post(f"/api/v1/counties/{code}/townships", json={"name": name, "township_id": township_id},
                            headers=admin)
        assert r.status_code == 201, r.text
    return code, admin


async def establish(http, code: str, admin: dict, name: str, township_id: str = "qiaogang") -> str:
    r = await http.post(f"/api/v1/counties/{code}/organizations", headers=admin, json={
        "name": name, "organization_type": "branch", "host_unit_type": "village", "township_id": township_id,
        "approved_by": "中共侨港镇委员会", "approved_on": "2019-05-04"})
    assert r.status_code == 201, r.text
    return r.json()["organization_id"]


# -- 两新组织 and coverage ---------------------------------------------------------------------------
# key: (unit_type, township, employees, full members, probationary members)
UNITS = {
    "A": ("private_enterprise", "qiaogang", 50, 5, 0),
    "B": ("private_enterprise", "qiaogang", 20, 2, 1),   # 2 full + 1 probationary: no own branch
    "C": ("private_enterprise", "qiaogang", 15, 3, 0),   # could stand alone: the joint branch warns
    "D": ("private_enterprise", "qiaogang", 12, 0, 0),
    "F": ("private_enterprise", "gaode", 25, 0, 0),
    "G": ("private_enterprise", "gaode", 8, 1, 0),       # under 10 employees: out of scope
    "H": ("social_organization", "gaode", 40, 1, 0),
}
STANDALONE, JOINT = {"A"}, {"B", "C", "D"}
INSTRUCTED = {"F"}
MASS = {"A": ("工会", "共青团", "妇联"), "D": ("工会",)}
ALL_MASS = {"工会", "共青团", "妇联"}


def in_scope(key: str) -> bool:
    unit_type, _, employees, _, _ = UNITS[key]
    return employees >= (30 if unit_type == "social_organization" else 10)


def rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def expected_row(keys: list[str], organized_as_of: bool = True) -> dict:
    scoped = [k for k in keys if in_scope(k)]
    standalone = [k for k in scoped if organized_as_of and k in STANDALONE]
    joint = [k for k in scoped if organized_as_of and k in JOINT]
    organized = standalone + joint
    unorganized = [k for k in scoped if k not in organized]
    work = [k for k in unorganized if organized_as_of and k in INSTRUCTED]
    complete = [k for k in organized if ALL_MASS <= set(MASS.get(k, ()))]
    return {"in_scope": len(scoped), "standalone": len(standalone), "joint": len(joint), "organized": len(organized),
            "organization_coverage_rate": rate(len(organized), len(scoped)),
            "standalone_rate": rate(len(standalone), len(scoped)), "unorganized": len(unorganized),
            "work_covered": len(work), "work_coverage_rate": rate(len(work), len(unorganized)),
            "mass_orgs_complete": len(complete), "mass_org_rate": rate(len(complete), len(organized))}


def row_of(report: dict, dimension: str, key: str) -> dict:
    found = [r for r in report["rows"] if r["dimension"] == dimension and r["key"] == key]
    assert len(found) == 1, report["rows"]
    return {k: v for k, v in found[0].items() if k not in ("dimension", "key")}


async def test_enterprises_branches_and_coverage_over_http(http, token):
    code, admin = await new_county_with_townships(http, token, {"qiaogang": "侨港镇", "gaode": "高德街道"})
    base = f"/api/v1/counties/{code}"
    usccs = {key: uscc_from_parts(DIVISION, f"{n:08d}") for n, key in enumerate(UNITS, start=1001)}
    ids = {}
    for key, (unit_type, township, employees, full, probationary) in UNITS.items():
        r = await http.post(f"{base}/enterprises", headers=admin, json={
            "uscc": usccs[key], "name": f"北海市{key}海产品有限公司", "unit_type": unit_type, "township_id": township,
            "industry": "制造业" if unit_type == "private_enterprise" else "社会服务", "employees": employees,
            "full_members": full, "probationary_members": probationary, "registered_on": "2025-01-15"})
        assert r.status_code == 201, r.text
        assert r.json()["uscc"] == usccs[key] and r.json()["seq"] > 0
        ids[key] = r.json()["enterprise_id"]

    # a wrong check character is refused with the reason; a code already registered is a conflict
    wrong = usccs["A"][:17] + ("1" if usccs["A"][17] != "1" else "2")
    r = await http.post(f"{base}/enterprises", headers=admin, json={
        "uscc": wrong, "name": "错误代码公司", "unit_type": "非公企业", "township_id": "qiaogang", "industry": "制造业",
        "employees": 12, "full_members": 0, "registered_on": "2025-01-15"})
    p = problem(r, 422)
    assert "校验位" in p["detail"] and "check character" in p["detail"]
    assert p["errors"][0]["field"] == "uscc"
    again = {"uscc": usccs["A"].lower(), "name": "北海市A海产品有限公司", "unit_type": "private_enterprise",
             "township_id": "qiaogang", "industry": "制造业", "employees": 50, "full_members": 5,
             "registered_on": "2025-01-15"}
    problem(await http.post(f"{base}/enterprises", headers=admin, json=again), 409)
    p = problem(await http.post(f"{base}/enterprises", headers=admin, json={**again, "enterprise_id": "other-a"}), 409)
    assert usccs["A"] in p["detail"]

    founding = {"approved_by": "中共侨港镇委员会", "approved_on": "2025-03-01", "founded_on": "2025-03-10"}
    # 单独组建 needs 3 full members; B has 2 (its probationary member does not count)
    r = await http.post(f"{base}/enterprise-branches", headers=admin, json={
        **founding, "enterprise_ids": [ids["B"]], "founding_mode": "单独组建", "organization_name": "B公司党支部"})
    p = problem(r, 422)
    assert p["code"] == "too_few_full_members" and "预备党员不计入" in p["detail"]
    r = await http.post(f"{base}/enterprise-branches", headers=admin, json={
        **founding, "enterprise_ids": [ids["A"]], "founding_mode": "standalone", "organization_name": "A公司党支部"})
    assert r.status_code == 201, r.text
    assert r.json()["warnings"] == [] and r.json()["enterprise_ids"] == [ids["A"]]
    r = await http.post(f"{base}/enterprise-branches", headers=admin, json={
        **founding, "enterprise_ids": [ids[k] for k in sorted(JOINT)], "founding_mode": "联合组建",
        "organization_name": "侨港镇非公企业联合党支部"})
    assert r.status_code == 201, r.text
    joint = r.json()
    assert joint["enterprise_ids"] == [ids[k] for k in sorted(JOINT)]
    assert len(joint["warnings"]) == 1 and "北海市C海产品有限公司" in joint["warnings"][0]  # C could stand alone

    for key in INSTRUCTED:
        r = await http.post(f"{base}/enterprises/{ids[key]}/instructor", headers=admin,
                            json={"person_name": "陈海生", "role": "党建指导员", "assigned_on": "2025-04-01"})
        assert r.status_code == 200, r.text
        assert r.json()["enterprise_id"] == ids[key]
    for key, kinds in MASS.items():
        for kind in kinds:
            r = await http.post(f"{base}/enterprises/{ids[key]}/mass-organizations", headers=admin,
                                json={"kind": kind, "established_on": "2025-05-01"})
            assert r.status_code == 200, r.text
    r = await http.post(f"{base}/enterprises/{ids['A']}/mass-organizations", headers=admin,
                        json={"kind": "工会", "established_on": "2025-05-02"})
    assert problem(r, 409)["code"] == "mass_organization_exists"

    r = await http.get(f"{base}/enterprises", headers=admin, params={"township_id": "gaode"})
    assert r.status_code == 200, r.text
    assert r.json()["total"] == sum(1 for u in UNITS.values() if u[1] == "gaode")

    # live coverage: every figure of the county and township rows as computed from UNITS above
    auditor = token("auditor", code)
    r = await http.get(f"{base}/coverage", headers=admin)
    assert r.status_code == 200, r.text
    report = r.json()
    assert row_of(report, "county", code) == expected_row(list(UNITS))
    for township in ("qiaogang", "gaode"):
        assert row_of(report, "township", township) == expected_row([k for k in UNITS if UNITS[k][1] == township])
    targets = {t["code"]: t for t in report["targets"]}
    enterprises = [k for k in UNITS if in_scope(k) and UNITS[k][0] == "private_enterprise"]
    organized_enterprises = [k for k in enterprises if k in STANDALONE | JOINT]
    assert targets["enterprises_organized"]["population"] == len(enterprises)
    assert targets["enterprises_organized"]["achieved"] == rate(len(organized_enterprises), len(enterprises))
    assert targets["enterprises_organized"]["met"] is False
    assert [u["enterprise_id"] for u in targets["enterprises_organized"]["shortfall"]] == [ids["F"]]

    # as of a date before any founding: nothing organized, the instructor not yet sent
    r = await http.get(f"{base}/coverage", headers=auditor, params={"as_of": "2025-02-01"})
    assert r.status_code == 200, r.text
    assert r.json()["as_of"] == "2025-02-01"
    assert row_of(r.json(), "county", code) == expected_row(list(UNITS), organized_as_of=False)

    r = await http.get(f"{base}/coverage/series", headers=auditor, params={"from_month": "2025-01",
                                                                         "to_month": "2025-06"})
    assert r.status_code == 200, r.text
    months = r.json()["months"]
    assert [m["month"] for m in months] == [f"2025-0{i}" for i in range(1, 7)]
    assert months[0]["county"]["organized"] == 0
    assert months[-1]["county"]["organized"] == expected_row(list(UNITS))["organized"]
    problem(await http.get(f"{base}/coverage/series", headers=auditor,
                           params={"from_month": "2025-06", "to_month": "2025-01"}), 422)

    # the workbook county staff exchange: same county figures
    r = await http.get(f"{base}/coverage.xlsx", headers=auditor)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == XLSX
    assert r.headers["content-disposition"].startswith("attachment;")
    assert f"filename*=UTF-8''{quote('两新组织覆盖情况_')}{code}_" in r.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(r.content))["覆盖情况"]
    county_rows = [row for row in sheet.iter_rows(values_only=True) if row[0] == "全县"]
    assert len(county_rows) == 1
    expected = expected_row(list(UNITS))
    assert county_rows[0][1] == code
    assert county_rows[0][2] == expected["in_scope"] and county_rows[0][5] == expected["organized"]
    assert county_rows[0][6] == expected["organization_coverage_rate"]

    problem(await http.post(f"{base}/enterprises/{ids['D']}/instructor", headers=auditor,
                            json={"person_name": "陈海生", "role": "instructor", "assigned_on": "2025-04-01"}), 403)


# -- rectification ----------------------------------------------------------------------------------
async def test_rectification_to_conversion_and_ledger_over_http(http, token):
    code, admin = await new_county_with_townships(http, token, {"qiaogang": "侨港镇"})
    base = f"/api/v1/counties/{code}"
    weak = await establish(http, code, admin, "侨港村党支部")
    other = await establish(http, code, admin, "电建村党支部")

    r = await http.post(f"{base}/rectification-cases", headers=admin, json={
        "organization_id": weak, "campaign": "2025", "reasons": ["secretary_unfit", "weak_service"],
        "screened_on": "2025-01-10", "decided_on": "2025-01-20"})
    assert r.status_code == 201, r.text
    case = r.json()["case_id"]
    assert case == f"2025.{weak}" and r.json()["relapse_of"] is None
    problem(await http.post(f"{base}/rectification-cases", headers=admin, json={
        "organization_id": weak, "campaign": "2025", "reasons": ["nonsense"], "screened_on": "2025-01-10",
        "decided_on": "2025-01-20"}), (409, 422))

    steps = [
        ("plan", {"plan": "一村一策：调整配强班子，规范三会一课", "measures": ["调整书记", "选派第一书记"],
                  "due_on": "2025-12-31"}),
        ("first-secretary", {"person_name": "李卫东", "from_on": "2025-02-01", "to_on": "2027-01-31"}),
        ("progress", {"reported_on": "2025-04-01", "summary": "已召开专题组织生活会"}),
        ("township-acceptance", {"accepted_on": "2025-06-01", "accepted_by": "中共侨港镇委员会"}),
        ("acceptance", {"accepted_on": "2025-07-01", "accepted_by": "中共银海区委组织部"}),
    ]
    for segment, body in steps:
        r = await http.post(f"{base}/rectification-cases/{case}/{segment}", headers=admin, json=body)
        assert r.status_code == 200, (segment, r.text)
        assert r.json()["case_id"] == case

    r = await http.get(f"{base}/rectification-cases/{case}", headers=admin)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "rectified" and r.json()["first_secretary"] == "李卫东"
    assert len(r.json()["timeline"]) == 1 + len(steps)

    # a case never flagged, and a case whose township has not accepted yet
    r = await http.post(f"{base}/rectification-cases/2025.{other}/acceptance", headers=admin,
                        json={"accepted_on": "2025-07-01", "accepted_by": "中共银海区委组织部"})
    assert problem(r, (404, 409))["code"] == "not_flagged"
    r = await http.post(f"{base}/rectification-cases", headers=admin, json={
        "organization_id": other, "campaign": "2026", "reasons": ["rules_a_formality"],
        "screened_on": "2026-01-05", "decided_on": "2026-01-15"})
    assert r.status_code == 201, r.text
    open_case, flagged_seq = r.json()["case_id"], r.json()["seq"]
    r = await http.post(f"{base}/rectification-cases/{open_case}/acceptance", headers=admin,
                        json={"accepted_on": "2026-03-01", "accepted_by": "中共银海区委组织部"})
    problem(r, 409)

    # another client (the auditor) reads what the county wrote by passing its sequence
    r = await http.get(f"{base}/rectification-summary",
                       headers={**token("auditor", code), "Dangjian-Min-Seq": str(flagged_seq)})
    assert r.status_code == 200, r.text
    by_campaign = {c["key"]: c for c in r.json()["by_campaign"]}
    assert by_campaign["2025"] == {"key": "2025", "listed": 1, "rectified": 1, "conversion_rate": 1.0}
    assert by_campaign["2026"]["conversion_rate"] == 0.0
    r = await http.get(f"{base}/rectification-cases", headers=admin, params={"status": "open"})
    assert [c["case_id"] for c in r.json()["items"]] == [open_case]
    r = await http.get(f"{base}/rectification-cases", headers=admin,
                       params={"campaign": "2025", "reason": "weak_service", "township_id": "qiaogang"})
    assert [c["case_id"] for c in r.json()["items"]] == [case]

    r = await http.get(f"{base}/rectification-ledger.xlsx", headers=admin, params={"campaign": "2025"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == XLSX
    assert f"filename*=UTF-8''{quote(f'软弱涣散党组织整顿台账_{code}.xlsx')}" in r.headers["content-disposition"]
    rows = list(load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True))
    assert rows[0][0] == "案例编号" and len(rows) == 2
    assert rows[1][0] == case and rows[1][2] == "侨港村党支部" and rows[1][6] == "已销号"


# -- classification and elections -------------------------------------------------------------------
FIVE_GOODS = ("good_leadership", "good_membership", "good_mechanisms", "good_performance", "good_public_response")


async def test_classification_over_two_years_over_http(http, token):
    code, admin = await new_county_with_townships(http, token, {"qiaogang": "侨港镇"})
    base = f"/api/v1/counties/{code}"
    branch = await establish(http, code, admin, "侨港村党支部")

    for year, grade, met, on in ((2023, "lagging", 2, "2024-01-15"), (2024, "average", 4, "2025-01-15")):
        r = await http.put(f"{base}/organizations/{branch}/classifications/{year}", headers=admin, json={
            "grade": grade, "items": {item: i < met for i, item in enumerate(FIVE_GOODS)}, "classified_on": on})
        assert r.status_code == 200, r.text
        assert r.json()["year"] == year
    r = await http.put(f"{base}/organizations/{branch}/classifications/2024", headers=admin, json={
        "grade": "advanced", "items": dict.fromkeys(FIVE_GOODS, True), "classified_on": "2025-02-01"})
    assert problem(r, 422)["code"] == "correction_needs_note"
    r = await http.get(f"{base}/classifications", headers=admin, params={"organization_id": branch})
    assert r.status_code == 200, r.text
    history = r.json()["organizations"][branch]
    assert [(h["year"], h["grade"], h["movement"]) for h in history] == [
        (2023, "lagging", None), (2024, "average", "promoted")]
    assert history[0]["programme"] == "remedy" and r.json()["by_year"]["2024"]["promoted"] == 1


async def test_committee_elections_follow_the_rule_table_over_http(http, token):
    code, admin = await new_county_with_townships(http, token, {"qiaogang": "侨港镇"})
    base = f"/api/v1/counties/{code}"
    branch = await establish(http, code, admin, "侨港村党支部")
    untermed = await establish(http, code, admin, "电建村党支部")

    # four full members: fewer than the committee threshold of the rules in force
    for i in range(4):
        r = await http.post(f"{base}/members", headers=admin, json={
            "name": f"党员{i}", "gender": "男", "birth_date": "1980-01-01", "membership_status": "正式党员",
            "joined_on": "2010-07-01", "branch_id": branch})
        assert r.status_code == 201, r.text
    r = await http.get(f"{base}/rules", headers=admin)
    assert r.status_code == 200, r.text
    table = r.json()["in_force"]
    committee_rule = next(s for s in table["setting"] if s["code"] == "committee_min_full_members")
    assert committee_rule["threshold"] > 4
    committee = [{"role": "secretary", "name": "党员0"}, {"role": "organization_officer", "name": "党员1"},
                 {"role": "publicity_officer", "name": "党员2"}]
    r = await http.post(f"{base}/organizations/{branch}/committee", headers=admin,
                        json={"elected_on": "2025-03-01", "committee": committee})
    if committee_rule["severity"] == "must":
        assert problem(r, 422)["code"] == "committee_min_full_members"
        r = await http.post(f"{base}/organizations/{branch}/committee", headers=admin, json={
            "elected_on": "2025-03-01", "committee": [{"role": "secretary", "name": "党员0"},
                                                      {"role": "deputy_secretary", "name": "党员1"}]})
        assert r.status_code == 200, r.text
        assert r.json()["secretary_only"] is True
    else:
        assert r.status_code == 200, r.text
    assert r.json()["term_ends_on"] == "2030-03-01"  # village branch: 5-year term

    # the county relaxes the committee rule to "generally": a committee goes through (with a warning)
    relaxed = {**table, "effective_from": "2025-01-01", "setting": [
        {**s, "severity": "generally"} if s["code"] == "committee_min_full_members" else s for s in table["setting"]]}
    problem(await http.put(f"{base}/rules", headers=token("auditor", code), json=relaxed), 403)
    r = await http.put(f"{base}/rules", headers=admin, json=relaxed)
    assert r.status_code == 200, r.text
    assert r.json()["effective_from"] == "2025-01-01"
    r = await http.get(f"{base}/rules", headers=admin, params={"as_of": "2025-06-01"})
    in_force = {s["code"]: s for s in r.json()["in_force"]["setting"]}
    assert in_force["committee_min_full_members"]["severity"] == "generally"
    r = await http.post(f"{base}/organizations/{branch}/committee", headers=admin,
                        json={"elected_on": "2025-09-01", "committee": committee})
    assert r.status_code == 200, r.text
    assert r.json()["secretary_only"] is False and r.json()["term_ends_on"] == "2030-09-01"

    r = await http.get(f"{base}/election-reminders", headers=admin)
    assert r.status_code == 200, r.text
    reminders = {i["organization_id"]: i["reminder"] for i in r.json()["items"]}
    assert reminders == {untermed: "no_term_recorded"}

    r = await http.post(f"{base}/organizations/{branch}/rename", headers=admin, json={
        "new_name": "侨港镇侨港村党支部", "approved_by": "中共侨港镇委员会", "approved_on": "2025-10-01"})
    assert r.status_code == 200, r.text
    r = await http.get(f"{base}/organizations", headers=admin)
    assert {o["organization_id"]: o["name"] for o in r.json()["items"]}[branch] == "侨港镇侨港村党支部"


# -- CLI --------------------------------------------------------------------------------------------
async def test_cli_imports_shows_coverage_and_exports(http, token, system, tmp_path):
    code, admin = await new_county_with_townships(http, token, {"qiaogang": "侨港镇"})
    data_dir = tmp_path / "cli"
    data_dir.mkdir()
    (data_dir / "runtime.json").write_text(json.dumps({"nats_url": system.nats_url}))
    csv = tmp_path / "两新组织.csv"
    csv.write_text("统一社会信用代码,单位名称,类型,乡镇,行业,从业人员,正式党员,登记日期\n"
                   f"{uscc_from_parts(DIVISION, '00002001')},北海市甲公司,非公企业,侨港镇,制造业,40,3,2025-01-15\n"
                   f"{uscc_from_parts(DIVISION, '00002002')},北海市乙公司,非公企业,qiaogang,制造业,12,0,2025-01-15\n",
                   encoding="utf-8")
    runner = CliRunner()

    async def run(*args: str):
        return await asyncio.to_thread(runner.invoke, cli, [*args, "--data-dir", str(data_dir)],
                                       env={"COLUMNS": "200", "DANGJIAN_JWT_SIGNING_KEY": system.settings.secret(),
                                            "DANGJIAN_CREDENTIALS_DIR": str(system.settings.credentials_path)})

    result = await run("import-enterprises", code, str(csv))
    assert result.exit_code == 0, result.output
    assert "imported 2 unit(s)" in result.output
    result = await run("coverage", code)
    assert result.exit_code == 0, result.output
    assert "全县" in result.output and "目标任务" in result.output
    result = await run("coverage", code, "--as-of", "yesterday")
    assert result.exit_code == 1 and "--as-of" in result.output

    out = tmp_path / "coverage.xlsx"
    result = await run("export-coverage", code, str(out), "--as-of", "2025-06-30")
    assert result.exit_code == 0, result.output
    sheet = load_workbook(out)["覆盖情况"]
    county_row = next(row for row in sheet.iter_rows(values_only=True) if row[0] == "全县")
    assert county_row[2] == 2 and county_row[5] == 0  # both in scope, none organized
    ledger = tmp_path / "ledger.xlsx"
    result = await run("export-ledger", code, str(ledger), "--campaign", "2025")
    assert result.exit_code == 0, result.output
    assert load_workbook(ledger).active.cell(1, 1).value == "案例编号"

    bad = tmp_path / "bad.csv"
    bad.write_text("统一社会信用代码,单位名称,类型,乡镇,行业,从业人员,正式党员,登记日期\n"
                   "91450503MA5KXXXX0X,坏公司,非公企业,侨港镇,制造业,40,3,2025-01-15\n", encoding="utf-8")
    result = await run("import-enterprises", code, str(bad))
    assert result.exit_code == 1
    assert "import_rejected" in result.output and "row 2" in result.output
