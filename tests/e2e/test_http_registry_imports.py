"""Issue 12 item 7 over HTTP against the real services: each registry's import template downloads and, filled
in, imports (服务站点, then 流动党员 naming one; 发展党员 with its steps); importing again records nothing
twice and a later version adds only the new step; a bad file is refused whole with every bad row named —
as problem+json, or as the error workbook when asked for — and a file naming another branch is refused
for a branch secretary (403)."""
from __future__ import annotations

import io

from openpyxl import load_workbook

from services.gateway.files import XLSX
from services.gateway.registry_imports import TEMPLATES
from tests.e2e.test_http_campaigns import establish, new_county_with_townships, problem

PATHS = {"applicants": "applicants", "mobile-members": "mobile-members",
         "mobile-service-points": "mobile-service-points", "centres": "centres", "posts": "posts", "rooms": "rooms"}


def upload(name: str, content: bytes, kind: str = "text/csv") -> dict:
    return {"file": (name, content, kind)}


async def test_templates_imports_and_the_error_workbook(http, token):
    code, admin = await new_county_with_townships(http, token, {"qiaogang": "侨港镇"})
    base = f"/api/v1/counties/{code}"
    branch = await establish(http, code, admin, "侨港镇侨港村党支部")
    other = await establish(http, code, admin, "侨港镇海鲜街社区党支部")

    templates = {}
    for kind, path in PATHS.items():
        r = await http.get(f"{base}/{path}/import/template", headers=admin)
        assert r.status_code == 200 and r.headers["content-type"] == XLSX, (kind, r.text[:200])
        assert "attachment" in r.headers["content-disposition"]
        sheet = load_workbook(io.BytesIO(r.content)).active
        assert [c.value for c in sheet[1]] == TEMPLATES[kind][1]
        templates[kind] = r.content

    # 发展党员: the template's applicant, activist and candidate — three steps, checked as one by one
    r = await http.post(f"{base}/applicants/import", headers=admin,
                        files=upload("发展党员.xlsx", templates["applicants"], XLSX))
    assert r.status_code == 201, r.text
    assert (r.json()["imported"], r.json()["steps"]) == (1, 3)
    huang = r.json()["applicant_ids"][0]
    step = (await http.get(f"{base}/applicants/{huang}", headers=admin)).json()
    assert (step["stage"], step["branch_id"]) == ("candidate", branch)
    r = await http.post(f"{base}/applicants/import", headers=admin,
                        files=upload("发展党员.xlsx", templates["applicants"], XLSX))
    assert (r.json()["imported"], r.json()["already_imported"], r.json()["steps"]) == (0, 1, 0)
    pipeline = (await http.get(f"{base}/development-pipeline", headers=admin)).json()
    assert pipeline["total"]["candidates"] == 1

    # a later sheet: one more applicant, an activist date for him — only the new steps are recorded
    sheet = ("姓名,性别,出生日期,所在支部,申请日期,接收人,确定积极分子日期,培养联系人\n"
             "陈志强,男,1995-06-01,侨港镇侨港村党支部,2025-01-05,李卫东,,\n")
    assert (await http.post(f"{base}/applicants/import", headers=admin,
                            files=upload("a.csv", sheet.encode()))).json()["steps"] == 1
    later = sheet.replace("李卫东,,", "李卫东,2025-07-01,张秀玲、李卫东")
    r = await http.post(f"{base}/applicants/import", headers=admin, files=upload("a.csv", later.encode()))
    assert (r.json()["imported"], r.json()["steps"]) == (0, 1), r.text

    # a bad file: nothing recorded; every bad row named; as a workbook when asked for
    bad = later + "王五,男,2015-01-01,侨港镇侨港村党支部,2025-01-05,李卫东,,\n" + "赵六,男,1990-01-01,无此支部,2025-01-05,李卫东,,\n"
    body = problem(await http.post(f"{base}/applicants/import", headers=admin, files=upload("a.csv", bad.encode())), 422)
    assert sorted(e["field"] for e in body["errors"]) == ["row 3: birth_date", "row 4: branch_id"]
    r = await http.post(f"{base}/applicants/import", headers={**admin, "Accept": XLSX},
                        files=upload("a.csv", bad.encode()))
    assert r.status_code == 422 and r.headers["content-type"] == XLSX
    rows = list(load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True))
    assert rows[0][:3] == ("行号", "错误", "姓名")
    assert [(row[0], row[2]) for row in rows[1:] if row[1]] == [(3, "王五"), (4, "赵六")]
    assert "birth_date" in rows[2][1] and "无此支部" in rows[3][1]
    names = [a["name"] for a in (await http.get(f"{base}/applicants", headers=admin)).json()["items"]]
    assert "王五" not in names and "赵六" not in names
    # the same validation and scope as one by one: a secretary imports their own branch's applicants only
    secretary = token("branch_secretary", code, township="qiaogang", branch=other)
    problem(await http.post(f"{base}/applicants/import", headers=secretary, files=upload("a.csv", later.encode())), 403)

    # 服务站点, then the mobile member the template names, registered at that point
    r = await http.post(f"{base}/members", headers=admin, json={
        "name": "张秀玲", "gender": "女", "birth_date": "1980-05-01", "membership_status": "正式党员",
        "joined_on": "2010-07-01", "branch_id": branch})
    assert r.status_code == 201, r.text
    r = await http.post(f"{base}/mobile-service-points/import", headers=admin,
                        files=upload("站点.xlsx", templates["mobile-service-points"], XLSX))
    assert r.status_code == 201, r.text
    r = await http.post(f"{base}/mobile-members/import", headers=admin,
                        files=upload("流动党员.xlsx", templates["mobile-members"], XLSX))
    assert r.status_code == 201 and (r.json()["registered"], r.json()["away"]) == (1, 0), r.text
    figures = (await http.get(f"{base}/mobile-figures", headers=admin)).json()
    assert figures["mobile_members"] == 1
    assert [(p["name"], p["members"]) for p in figures["by_service_point"]] == [("深圳北海商会流动党员服务站", 1)]
    r = await http.post(f"{base}/mobile-members/import", headers=admin,
                        files=upload("流动党员.xlsx", templates["mobile-members"], XLSX))
    assert (r.json()["registered"], r.json()["already_imported"]) == (0, 1)
    exported = await http.get(f"{base}/mobile-members.xlsx", headers=admin)  # the 台账 imports back as nothing new
    r = await http.post(f"{base}/mobile-members/import", headers=admin, files=upload("台账.xlsx", exported.content, XLSX))
    assert r.status_code == 201 and (r.json()["registered"], r.json()["away"], r.json()["already_imported"]) == (0, 0, 1)
    r = await http.post(f"{base}/mobile-members/import", headers=secretary,
                        files=upload("流动党员.xlsx", templates["mobile-members"], XLSX))
    problem(r, 403)
