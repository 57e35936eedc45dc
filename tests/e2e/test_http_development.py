"""Issue 12 item 1 over HTTP against the real services: the development pipeline (发展党员) from
application to 转正, with the figures county staff rely on — a probation ending next month, one
overdue, a branch without development candidates for two years (flagged weak with that reason) —
the registry's full/probationary flag following 转正, scopes, refusals naming the field, the Excel
ledger. Dates are relative to today (China time), as the service's checks are."""
from __future__ import annotations

import io
from datetime import timedelta

from openpyxl import load_workbook

from services.organizations.clock import today
from services.organizations.lifecycle.elections import add_months
from tests.e2e.test_http_campaigns import establish, new_county_with_townships, problem


def iso(day) -> str:
    return day.isoformat()


async def develop(http, base: str, who: dict, branch: str, name: str, *, applied, activist, candidate) -> str:
    r = await http.post(f"{base}/applicants", headers=who, json={
        "name": name, "gender": "女", "birth_date": "1996-03-08", "branch_id": branch, "applied_on": iso(applied),
        "received_by": "支部书记 李卫东"})
    assert r.status_code == 201, r.text
    applicant = r.json()["applicant_id"]
    r = await http.post(f"{base}/applicants/{applicant}/activist", headers=who, json={
        "designated_on": iso(activist), "decided_by": "支部委员会", "training_contacts": ["张秀玲", "李卫东"]})
    assert r.status_code == 200 and r.json()["stage"] == "activist", r.text
    if candidate is not None:
        r = await http.post(f"{base}/applicants/{applicant}/candidate", headers=who, json={
            "designated_on": iso(candidate), "decided_by": "支部委员会"})
        assert r.status_code == 200 and r.json()["stage"] == "candidate", r.text
    return applicant


async def admit(http, base: str, who: dict, applicant: str, meeting) -> dict:
    r = await http.post(f"{base}/applicants/{applicant}/admission", headers=who, json={
        "branch_meeting_on": iso(meeting), "approved_by": "中共侨港镇委员会", "approved_on": iso(meeting + timedelta(days=3))})
    assert r.status_code == 200, r.text
    return r.json()


async def test_development_pipeline_probation_and_screening(http, token):
    code, admin = await new_county_with_townships(http, token, {"qiaogang": "侨港镇", "gaode": "高德街道"})
    base = f"/api/v1/counties/{code}"
    a = await establish(http, code, admin, "侨港镇侨港村党支部")
    b = await establish(http, code, admin, "侨港镇海鲜街社区党支部")
    c = await establish(http, code, admin, "高德街道高德村党支部", township_id="gaode")
    day = today()
    secretary_a = token("branch_secretary", code, township="qiaogang", branch=a)

    # 黄小燕: applied three years ago; probation (from the branch meeting) ends in 20 days — next month's list
    due_meeting = add_months(day, -12) + timedelta(days=20)
    huang = await develop(http, base, secretary_a, a, "黄小燕", applied=add_months(day, -36),
                          activist=add_months(day, -35), candidate=add_months(day, -22))
    step = await admit(http, base, admin, huang, due_meeting)
    assert step["stage"] == "probationary" and step["probation_ends_on"] == iso(add_months(due_meeting, 12))
    # 陈志强: admitted 13 months ago, not yet decided — overdue
    chen = await develop(http, base, secretary_a, a, "陈志强", applied=add_months(day, -40),
                         activist=add_months(day, -39), candidate=add_months(day, -26))
    await admit(http, base, admin, chen, add_months(day, -13))
    # a probationary member imported without a pipeline: probation by the rule table, from joining
    r = await http.post(f"{base}/members", headers=admin, json={
        "name": "周海燕", "gender": "女", "birth_date": "1990-01-01", "membership_status": "预备党员",
        "joined_on": iso(add_months(day, -12) + timedelta(days=10)), "branch_id": b})
    assert r.status_code == 201, r.text
    zhou = r.json()["member_id"]
    # 高德村: its latest development candidate was designated three years ago
    await develop(http, base, admin, c, "王建国", applied=add_months(day, -60), activist=add_months(day, -50),
                  candidate=add_months(day, -36))
    # still in the pipeline in 侨港村: an activist of six months
    early = await develop(http, base, secretary_a, a, "刘芳", applied=add_months(day, -8),
                          activist=add_months(day, -6), candidate=None)

    # the registry holds the admitted as probationary members of their branch
    r = await http.get(f"{base}/members/{huang}", headers=admin)
    assert r.json()["membership_status"] == "probationary" and r.json()["branch_id"] == a
    assert r.json()["joined_on"] == iso(due_meeting) and r.json()["standing"] == "active"

    # -- figures ---------------------------------------------------------------------------------
    r = await http.get(f"{base}/probation-due", headers=admin)
    assert r.status_code == 200, r.text
    figures = r.json()
    assert figures["within_days"] == 30
    assert [(i["name"], i["days_left"]) for i in figures["due"]] == [
        ("周海燕", (add_months(add_months(day, -12) + timedelta(days=10), 12) - day).days),
        ("黄小燕", (add_months(due_meeting, 12) - day).days)]
    assert [i["name"] for i in figures["overdue"]] == ["陈志强"]
    assert figures["due"][1]["probation_ends_on"] == iso(add_months(due_meeting, 12))

    r = await http.get(f"{base}/development-pipeline", headers=admin)
    pipeline = r.json()
    assert pipeline["total"] == {"applicants": 0, "activists": 1, "candidates": 1, "probationary": 3}
    by_township = {t["township_id"]: t for t in pipeline["by_township"]}
    assert by_township["qiaogang"]["probationary"] == 3 and by_township["qiaogang"]["activists"] == 1
    assert by_township["gaode"] == {"township_id": "gaode", "applicants": 0, "activists": 0, "candidates": 1,
                                    "probationary": 0}
    by_branch = {x["branch_id"]: x for x in pipeline["by_branch"]}
    assert (by_branch[a]["probationary"], by_branch[b]["probationary"], by_branch[c]["candidates"]) == (2, 1, 1)
    # as it stood two years ago: 黄小燕 still an activist, 陈志强 and 王建国 candidates, nobody on probation
    r = await http.get(f"{base}/development-pipeline", headers=admin, params={"as_of": iso(add_months(day, -24))})
    then = r.json()
    assert then["as_of"] == iso(add_months(day, -24))
    assert then["total"] == {"applicants": 0, "activists": 1, "candidates": 2, "probationary": 0}
    assert {t["township_id"]: t["candidates"] for t in then["by_township"]} == {"qiaogang": 1, "gaode": 1}
    assert pipeline["as_of"] == iso(day)

    r = await http.get(f"{base}/branches-without-candidates", headers=admin)
    screening = r.json()
    assert screening["years"] == 2 and screening["weak_reason"]["code"] == "no_candidates_2_years"
    assert screening["weak_reason"]["name"] == "连续2年以上未发展党员"
    listed = {i["branch_id"]: i for i in screening["items"]}
    assert set(listed) == {b, c}  # 侨港村 designated candidates within two years
    assert listed[b]["last_candidate_on"] is None and listed[b]["since"] == "2019-05-04"
    assert listed[c]["last_candidate_on"] == iso(add_months(day, -36))
    # the screening's reason is one the rectification workflow flags with
    r = await http.post(f"{base}/rectification-cases", headers=admin, json={
        "organization_id": c, "campaign": str(day.year), "reasons": [screening["weak_reason"]["code"]],
        "screened_on": iso(day), "decided_on": iso(day)})
    assert r.status_code == 201, r.text

    # -- 转正, extension, cancellation -------------------------------------------------------------
    ends = add_months(add_months(day, -13), 12)
    too_early = await http.post(f"{base}/members/{huang}/confirmation", headers=admin, json={
        "branch_meeting_on": iso(day), "approved_by": "中共侨港镇委员会", "approved_on": iso(day)})
    assert problem(too_early, 422)["errors"][0]["field"] == "branch_meeting_on"
    r = await http.post(f"{base}/members/{chen}/confirmation", headers=admin, json={
        "branch_meeting_on": iso(ends), "approved_by": "中共侨港镇委员会", "approved_on": iso(day)})
    assert r.status_code == 200 and r.json()["stage"] == "full", r.text
    r = await http.get(f"{base}/members/{chen}", headers=admin)
    assert r.json()["membership_status"] == "full"  # the registry's flag followed 转正
    r = await http.get(f"{base}/applicants/{chen}", headers=admin)
    assert r.json()["stage"] == "full" and r.json()["full_from"] == iso(ends)

    extension = {"branch_meeting_on": iso(day), "approved_by": "中共侨港镇委员会", "approved_on": iso(day),
                 "months": 6, "reason": "未能认真履行党员义务"}
    r = await http.post(f"{base}/members/{zhou}/probation-extension", headers=admin, json=extension)
    assert r.status_code == 200, r.text
    assert r.json()["probation_ends_on"] == iso(add_months(add_months(add_months(day, -12) + timedelta(days=10), 12), 6))
    problem(await http.post(f"{base}/members/{zhou}/probation-extension", headers=admin, json=extension), 409)
    r = await http.post(f"{base}/members/{zhou}/probation-cancellation", headers=admin, json={
        "branch_meeting_on": iso(day), "approved_by": "中共侨港镇委员会", "approved_on": iso(day),
        "reason": "延长预备期满仍不具备党员条件"})
    assert r.status_code == 200 and r.json()["stage"] == "cancelled", r.text
    r = await http.get(f"{base}/members/{zhou}", headers=admin)
    assert r.json()["standing"] == "cancelled"
    r = await http.get(f"{base}/probation-due", headers=admin)
    assert [i["name"] for i in r.json()["due"]] == ["黄小燕"] and r.json()["overdue"] == []

    # -- refusals and scope -------------------------------------------------------------------------
    r = await http.post(f"{base}/applicants/{early}/candidate", headers=secretary_a, json={
        "designated_on": iso(day), "decided_by": "支部委员会"})
    assert problem(r, 422)["errors"][0]["field"] == "designated_on"  # six months as an activist, not twelve
    r = await http.post(f"{base}/applicants", headers=admin, json={
        "name": "赵小明", "gender": "男", "birth_date": iso(add_months(day, -12 * 17)), "branch_id": a,
        "applied_on": iso(day), "received_by": "李卫东"})
    assert problem(r, 422)["errors"][0]["field"] == "birth_date"  # under 18
    r = await http.post(f"{base}/applicants/{early}/activist", headers=secretary_a, json={
        "designated_on": iso(day), "decided_by": "支部委员会", "training_contacts": ["张秀玲"]})
    problem(r, 409)  # already an activist
    problem(await http.post(f"{base}/applicants/{huang}/admission", headers=secretary_a, json={
        "branch_meeting_on": iso(day), "approved_by": "x", "approved_on": iso(day)}), 403)  # needs the upper level
    secretary_b = token("branch_secretary", code, township="qiaogang", branch=b)
    problem(await http.post(f"{base}/applicants/{early}/discontinuation", headers=secretary_b, json={
        "decided_on": iso(day), "decided_by": "支部委员会", "reason": "本人撤回"}), 403)
    gaode = token("township_operator", code, township="gaode")
    r = await http.get(f"{base}/applicants", headers=gaode)
    assert {i["branch_id"] for i in r.json()["items"]} == {c}
    r = await http.get(f"{base}/branches-without-candidates", headers=gaode)
    assert [i["branch_id"] for i in r.json()["items"]] == [c]
    other = token("county_admin", "450999" if code != "450999" else "450998")
    assert (await http.get(f"{base}/applicants", headers=other)).status_code == 403

    # -- the ledger as a workbook -------------------------------------------------------------------
    r = await http.get(f"{base}/applicants.xlsx", headers=secretary_a)
    assert r.status_code == 200, r.text
    sheet = load_workbook(io.BytesIO(r.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("编号", "姓名", "性别")
    assert sorted(row[1] for row in rows[1:]) == sorted(["黄小燕", "陈志强", "刘芳"])
    assert {row[1]: row[6] for row in rows[1:]}["陈志强"] == "已转正"
