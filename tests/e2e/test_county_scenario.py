"""A realistic county through the public HTTP API: hundreds of enterprises and social organizations
across townships and industries, Party organizations founded over two years, and a rectification
campaign of dozens of organizations over two years. Every figure the API reports is compared with a
figure this test computes independently from its own input; coverage as of a past date must equal
what the live read-model showed on that date."""
from __future__ import annotations

import io
import random
from dataclasses import dataclass, field
from datetime import date

from openpyxl import Workbook

from services.organizations.enterprises.uscc import uscc_from_parts
from tests.conftest import new_county

TOWNSHIPS = {"qiaogang": "侨港镇", "yintan": "银滩镇", "pingyang": "平阳镇", "fucheng": "福成镇"}
INDUSTRIES = ["制造业", "批发和零售业", "建筑业", "住宿和餐饮业", "信息传输、软件和信息技术服务业"]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class Unit:
    """The test's own model of one unit (its independent truth)."""

    id: str
    uscc: str
    name: str
    unit_type: str
    township: str
    industry: str
    employees: int
    full: int
    premises: bool
    status: str = "operating"
    organized: str | None = None  # founding mode
    instructor: bool = False
    union: bool = False
    mass: set = field(default_factory=set)


def in_scope(u: Unit) -> bool:
    minimum = 30 if u.unit_type == "social_organization" else 10
    return u.status == "operating" and u.premises and u.employees >= minimum


def expected_row(units: list[Unit]) -> dict:
    scoped = [u for u in units if in_scope(u)]
    organized = [u for u in scoped if u.organized]
    standalone = [u for u in organized if u.organized == "standalone"]
    unorganized = [u for u in scoped if not u.organized]
    work = [u for u in unorganized if u.instructor or u.union]
    rate = lambda a, b: round(a / b, 4) if b else None  # noqa: E731
    return {"in_scope": len(scoped), "organized": len(organized), "standalone": len(standalone),
            "joint": len(organized) - len(standalone), "unorganized": len(unorganized), "work_covered": len(work),
            "organization_coverage_rate": rate(len(organized), len(scoped)),
            "standalone_rate": rate(len(standalone), len(scoped)),
            "work_coverage_rate": rate(len(work), len(unorganized))}


def pick(row: dict) -> dict:
    return {k: row[k] for k in ("in_scope", "organized", "standalone", "joint", "unorganized", "work_covered",
                                "organization_coverage_rate", "standalone_rate", "work_coverage_rate")}


def make_units(code: str, rng: random.Random, n_enterprises: int, n_social: int) -> list[Unit]:
    units = []
    for i in range(n_enterprises + n_social):
        social = i >= n_enterprises
        employees = rng.choice([5, 8, 12, 18, 25, 35, 60, 90, 150, 400]) + rng.randint(0, 4)
        full = rng.choice([0, 0, 1, 2, 3, 4, 6, 9]) if employees >= 10 else rng.choice([0, 1])
        uscc = uscc_from_parts("450503", f"{'B' if social else 'E'}{i:07d}", authority="5" if social else "9")
        units.append(Unit(id="", uscc=uscc, name=f"{'北海市某协会' if social else '北海某海产品公司'}{i:03d}",
                          unit_type="social_organization" if social else "private_enterprise",
                          township=rng.choice(list(TOWNSHIPS)), industry=rng.choice(INDUSTRIES),
                          employees=employees, full=min(full, employees), premises=rng.random() > 0.08))
    return units


def units_xlsx(units: list[Unit]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(["统一社会信用代码", "单位名称", "类型", "所属乡镇", "行业", "从业人员", "正式党员", "预备党员", "经营状态",
               "固定场所", "规模以上", "登记日期"])
    for u in units:
        ws.append([u.uscc, u.name, "社会组织" if u.unit_type == "social_organization" else "非公企业",
                   TOWNSHIPS[u.township], u.industry, u.employees, u.full, 0, "正常经营", "是" if u.premises else "否",
                   "是" if u.employees >= 100 else "否", "2024-06-01"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


async def ok(resp, *status) -> dict:
    assert resp.status_code in (status or (200, 201)), resp.text
    return resp.json() if resp.headers.get("content-type", "").startswith("application/json") else {}


async def test_realistic_county(http, token):
    rng = random.Random(20261121)
    code = new_county()
    await ok(await http.post("/api/v1/counties", json={"county_code": code, "name": "银海区"},
                             headers=token("platform_admin")))
    admin = token("county_admin", code)
    api = f"/api/v1/counties/{code}"
    for tid, name in TOWNSHIPS.items():
        await ok(await http.post(f"{api}/townships", json={"name": name, "township_id": tid}, headers=admin))

    # --- 两新组织: 300 enterprises + 60 social organizations, imported from Excel ----------------------
    units = make_units(code, rng, 300, 60)
    r = await ok(await http.post(f"{api}/enterprises/import", headers=admin,
                                 files={"file": ("两新组织名册.xlsx", units_xlsx(units), XLSX)}))
    assert r["imported"] == len(units)
    listed = (await ok(await http.get(f"{api}/enterprises", headers=admin)))["items"]
    by_uscc = {i["uscc"]: i["enterprise_id"] for i in listed}
    for u in units:
        u.id = by_uscc[u.uscc]

    async def coverage(as_of: date | None = None) -> dict:
        params = {"as_of": as_of.isoformat()} if as_of else {}
        return await ok(await http.get(f"{api}/coverage", params=params, headers=admin))

    # --- two years of founding, instructors, 工青妇 and closures, in date order ------------------------
    snapshots: dict[date, dict] = {}
    months = [date(2025, m, 28) for m in range(1, 13)] + [date(2026, m, 28) for m in range(1, 11)]
    for month in months:
        candidates = [u for u in units if in_scope(u) and not u.organized]
        for u in [u for u in candidates if u.full >= 3][:6]:  # 单独组建
            await ok(await http.post(f"{api}/enterprise-branches", headers=admin, json={
                "enterprise_ids": [u.id], "founding_mode": "standalone", "organization_name": f"{u.name}党支部",
                "approved_by": "中共银海区委非公经济组织工委", "approved_on": month.isoformat(),
                "founded_on": month.isoformat()}), 201)
            u.organized = "standalone"
        small = [u for u in candidates if u.full < 3 and u.unit_type == "private_enterprise" and not u.organized]
        by_town: dict[str, list[Unit]] = {}
        for u in small:
            by_town.setdefault(u.township, []).append(u)
        for town, group in list(by_town.items())[:1]:  # 区域联建: 3 small units of one township
            group = group[:3]
            if len(group) == 3:
                await ok(await http.post(f"{api}/enterprise-branches", headers=admin, json={
                    "enterprise_ids": [u.id for u in group], "founding_mode": "area",
                    "organization_name": f"{TOWNSHIPS[town]}非公企业联合党支部{month:%Y%m}",
                    "approved_by": "中共银海区委组织部", "approved_on": month.isoformat(),
                    "founded_on": month.isoformat()}), 201)
                for u in group:
                    u.organized = "area"
        for u in [u for u in units if in_scope(u) and not u.organized and not u.instructor][:5]:
            await ok(await http.post(f"{api}/enterprises/{u.id}/instructor", headers=admin, json={
                "person_name": "刘建华", "role": "instructor", "assigned_on": month.isoformat()}))
            u.instructor = True
        for u in [u for u in units if u.organized and "trade_union" not in u.mass][:4]:
            await ok(await http.post(f"{api}/enterprises/{u.id}/mass-organizations", headers=admin, json={
                "kind": "trade_union", "established_on": month.isoformat()}))
            u.mass.add("trade_union")
        if month.month % 4 == 0:  # a unit stops operating now and then
            victim = next(u for u in units if u.status == "operating" and not u.organized)
            await ok(await http.post(f"{api}/enterprises/{victim.id}/closure", headers=admin, json={
                "status": "suspended", "closed_on": month.isoformat(), "reason": "停产整顿"}))
            victim.status = "suspended"
        if month.month in (6, 12):
            live = await coverage()
            snapshots[month] = live
            county_row = next(r for r in live["rows"] if r["dimension"] == "county")
            assert pick(county_row) == expected_row(units), month
            for tid in TOWNSHIPS:
                row = next(r for r in live["rows"] if r["dimension"] == "township" and r["key"] == tid)
                assert pick(row) == expected_row([u for u in units if u.township == tid]), (month, tid)

    # as of each past date the API answers what the live read-model showed then
    for day, live in snapshots.items():
        past = await coverage(day)
        assert past["rows"] == live["rows"], day
        assert past["targets"] == live["targets"], day
    final = await coverage()
    target = next(t for t in final["targets"] if t["kind"] == "organized_above_employees")
    expected_short = {u.id for u in units if u.unit_type == "private_enterprise" and u.status == "operating"
                      and u.employees >= 30 and not u.organized}
    assert {s["enterprise_id"] for s in target["shortfall"]} == expected_short
    unorganized_qualifying = {u.id for u in units if in_scope(u) and not u.organized and u.full >= 3}
    assert {s["enterprise_id"] for s in final["members_without_organization"]} == unorganized_qualifying
    series = await ok(await http.get(f"{api}/coverage/series", headers=admin,
                                     params={"from_month": "2025-01-01", "to_month": "2026-10-01"}))
    assert len(series["months"]) == 22
    june = next(m for m in series["months"] if m["month"] == "2025-06")
    assert june["county"]["organized"] < series["months"][-1]["county"]["organized"]

    # --- a rectification campaign of dozens of village organizations over two years -------------------
    villages = []
    for i in range(40):
        r = await ok(await http.post(f"{api}/organizations", headers=admin, json={
            "name": f"{TOWNSHIPS[list(TOWNSHIPS)[i % 4]]}第{i + 1}村党支部", "organization_type": "branch",
            "host_unit_type": "village", "township_id": list(TOWNSHIPS)[i % 4], "approved_by": "镇党委",
            "approved_on": "2018-03-01"}), 201)
        villages.append(r["organization_id"])
    reasons = ["committee_incomplete", "secretary_unfit", "weak_service", "affairs_in_disorder",
               "secretary_vacant_3_months"]
    listed_2025 = villages[:24]
    accepted_2025 = set(listed_2025[:20])
    for oid in listed_2025:
        r = await ok(await http.post(f"{api}/rectification-cases", headers=admin, json={
            "organization_id": oid, "campaign": "2025", "reasons": rng.sample(reasons, 2),
            "screened_on": "2025-02-10", "decided_on": "2025-03-01"}), 201)
        case = r["case_id"]
        await ok(await http.post(f"{api}/rectification-cases/{case}/plan", headers=admin, json={
            "plan": "一村一策：调整班子、规范三会一课", "measures": ["调整书记", "选派第一书记"], "due_on": "2025-11-30",
            "liaison_leader": "王志强"}))
        await ok(await http.post(f"{api}/rectification-cases/{case}/first-secretary", headers=admin, json={
            "person_name": "李卫东", "from_on": "2025-03-15", "to_on": "2027-03-14"}))
        if oid in accepted_2025:
            await ok(await http.post(f"{api}/rectification-cases/{case}/township-acceptance", headers=admin, json={
                "accepted_on": "2025-11-20", "accepted_by": "镇党委"}))
            await ok(await http.post(f"{api}/rectification-cases/{case}/acceptance", headers=admin, json={
                "accepted_on": "2025-12-10", "accepted_by": "区委组织部"}))
    relapsed = list(accepted_2025)[:3]
    listed_2026 = villages[24:36] + relapsed
    for oid in listed_2026:
        await ok(await http.post(f"{api}/rectification-cases", headers=admin, json={
            "organization_id": oid, "campaign": "2026", "reasons": ["weak_service"],
            "screened_on": "2026-02-10", "decided_on": "2026-03-01"}), 201)
    for oid in villages[24:30]:
        case = f"2026.{oid}"
        await ok(await http.post(f"{api}/rectification-cases/{case}/plan", headers=admin, json={
            "plan": "强化服务群众", "measures": ["包联"], "due_on": "2026-09-30"}))
        await ok(await http.post(f"{api}/rectification-cases/{case}/township-acceptance", headers=admin, json={
            "accepted_on": "2026-09-20", "accepted_by": "镇党委"}))
        await ok(await http.post(f"{api}/rectification-cases/{case}/acceptance", headers=admin, json={
            "accepted_on": "2026-10-10", "accepted_by": "区委组织部"}))
    summary = await ok(await http.get(f"{api}/rectification-summary", headers=admin))
    by_campaign = {c["key"]: c for c in summary["by_campaign"]}
    assert by_campaign["2025"]["listed"] == 24 and by_campaign["2025"]["rectified"] == 20
    assert by_campaign["2025"]["conversion_rate"] == round(20 / 24, 4)
    assert by_campaign["2026"]["listed"] == len(listed_2026) and by_campaign["2026"]["rectified"] == 6
    assert sorted(summary["relapses"]) == sorted(f"2026.{oid}" for oid in relapsed)
    overdue_2025 = {f"2025.{oid}" for oid in listed_2025 if oid not in accepted_2025}
    assert overdue_2025 <= {c["case_id"] for c in summary["overdue"]}
    open_cases = await ok(await http.get(f"{api}/rectification-cases", headers=admin, params={"status": "open"}))
    assert open_cases["total"] == (24 - 20) + (len(listed_2026) - 6)
    per_town = {t: sum(1 for oid in listed_2025 + listed_2026 if oid not in accepted_2025 | set(villages[24:30])
                       and list(TOWNSHIPS)[villages.index(oid) % 4] == t) for t in TOWNSHIPS}
    relapse_open = {t: sum(1 for oid in relapsed if list(TOWNSHIPS)[villages.index(oid) % 4] == t) for t in TOWNSHIPS}
    assert open_cases["by_township"] == {t: per_town[t] + relapse_open[t] for t in TOWNSHIPS
                                         if per_town[t] + relapse_open[t]}
