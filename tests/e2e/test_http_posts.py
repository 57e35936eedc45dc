"""无职党员设岗定责 over HTTP against the real services: a village branch defines posts (by API and from a
spreadsheet), assigns members without office, records the year's public commitments and their review —
and a duty star (职责星) is scored with the review as its evidence. The committee's secretary, a member of
another branch and another branch's secretary are refused."""
from __future__ import annotations

import io

from openpyxl import load_workbook

from tests.e2e.test_http_campaigns import establish, new_county_with_townships, problem

MEMBERS = ["黄海燕", "陈德明", "李秀英", "周建国", "吴玉兰"]


async def register(http, base: str, admin: dict, name: str, branch: str) -> str:
    r = await http.post(f"{base}/members", headers=admin, json={
        "name": name, "gender": "女" if name.endswith(("燕", "英", "兰")) else "男", "birth_date": "1970-01-01",
        "membership_status": "正式党员", "joined_on": "2000-07-01", "branch_id": branch})
    assert r.status_code == 201, r.text
    return r.json()["member_id"]


async def test_posts_commitments_reviews_and_a_duty_star_with_the_review_as_evidence(http, token):
    code, admin = await new_county_with_townships(http, token, {"qiaogang": "侨港镇"})
    base = f"/api/v1/counties/{code}"
    branch, other = await establish(http, code, admin, "侨港村党支部"), await establish(http, code, admin, "渔港村党支部")
    ids = {name: await register(http, base, admin, name, branch) for name in MEMBERS}
    outsider = await register(http, base, admin, "赵大海", other)
    r = await http.post(f"{base}/organizations/{branch}/committee", headers=admin, json={
        "elected_on": "2024-03-01", "committee": [{"role": "secretary", "name": "黄海燕", "member_id": ids["黄海燕"]}]})
    assert r.status_code == 200, r.text
    secretary = token("branch_secretary", code, branch=branch)

    r = await http.post(f"{base}/posts", headers=secretary, json={
        "branch_id": branch, "name": "政策宣传岗", "category": "政策宣传", "duties": "宣讲惠民政策，每月入户宣传",
        "defined_on": "2026-01-05"})
    assert r.status_code == 201, r.text
    publicity = r.json()["post_id"]
    p = problem(await http.post(f"{base}/posts/{publicity}/holders", headers=secretary,
                                json={"member_id": ids["黄海燕"], "assigned_on": "2026-01-05"}), 422)
    assert p["code"] == "member_holds_office"  # the secretary holds office
    p = problem(await http.post(f"{base}/posts/{publicity}/holders", headers=secretary,
                                json={"member_id": outsider, "assigned_on": "2026-01-05"}), 422)
    assert p["code"] == "member_not_in_branch"
    r = await http.post(f"{base}/posts/{publicity}/holders", headers=secretary,
                        json={"member_id": ids["陈德明"], "assigned_on": "2026-01-05"})
    assert r.status_code == 200, r.text
    problem(await http.post(f"{base}/posts", headers=token("branch_secretary", code, branch=other), json={
        "branch_id": branch, "name": "环境卫生岗", "category": "环境卫生", "duties": "x", "defined_on": "2026-01-05"}), 403)

    sheet = ("支部,岗位名称,岗位类别,岗位职责,设岗日期,党员\n"
             "侨港村党支部,矛盾纠纷调解岗,矛盾调解,调解邻里纠纷,2026-01-06,李秀英、周建国\n"
             "侨港村党支部,关爱帮扶岗,关爱老人,结对帮扶独居老人,2026/1/6,吴玉兰\n").encode()
    r = await http.post(f"{base}/posts/import", headers=secretary, files={"file": ("岗位.csv", sheet, "text/csv")})
    assert r.status_code == 201, r.text
    assert (r.json()["imported"], r.json()["assigned"]) == (2, 3)
    again = await http.post(f"{base}/posts/import", headers=secretary, files={"file": ("岗位.csv", sheet, "text/csv")})
    assert (again.json()["imported"], again.json()["assigned"], again.json()["already_imported"]) == (0, 0, 2)
    bad = sheet.replace("吴玉兰".encode(), "王小明".encode())
    p = problem(await http.post(f"{base}/posts/import", headers=secretary, files={"file": ("岗位.csv", bad, "text/csv")}),
                422)
    assert [e["field"] for e in p["errors"]] == ["row 3: members"]

    posts = (await http.get(f"{base}/posts", headers=admin, params={"branch_id": branch})).json()
    assert (posts["total"], posts["members_on_posts"]) == (3, 4)
    assert {i["name"]: [h["member_name"] for h in i["holders"]] for i in posts["items"]} == {
        "政策宣传岗": ["陈德明"], "矛盾纠纷调解岗": ["周建国", "李秀英"], "关爱帮扶岗": ["吴玉兰"]}

    r = await http.post(f"{base}/commitments", headers=secretary, json={
        "member_id": ids["陈德明"], "post_id": publicity, "year": 2026, "items": ["每月入户宣传政策不少于10户"],
        "made_on": "2026-01-10", "published_at": "村务公开栏"})
    assert r.status_code == 201, r.text
    p = problem(await http.post(f"{base}/commitments", headers=secretary, json={
        "member_id": ids["吴玉兰"], "post_id": publicity, "year": 2026, "items": ["x"], "made_on": "2026-01-10",
        "published_at": "村务公开栏"}), 422)
    assert p["code"] == "not_on_post"
    r = await http.post(f"{base}/commitments/review", headers=secretary, json={
        "member_id": ids["陈德明"], "year": 2026, "reviewed_on": "2026-06-30", "reviewed_by": "支部党员大会和群众代表",
        "grade": "优秀"})
    assert r.status_code == 200, r.text
    review = r.json()
    assert review["fulfilled"] and review["evidence_ref"].startswith("践诺评议:")

    # a member scheme with a duty star: the review is the score's evidence
    r = await http.put(f"{base}/star-schemes/2026", headers=admin, json={"name": "2026年党员星级管理", "slots": [
        {"category": "lead_by_example", "name": "表率示范星", "kind": "common"},
        {"category": "post_duty", "name": "岗位履职星", "kind": "duty"}]})
    assert r.status_code in (200, 201), r.text
    r = await http.post(f"{base}/members/{ids['陈德明']}/scores", headers={**admin, "Idempotency-Key": "cdm-duty"}, json={
        "year": 2026, "category": "post_duty", "points": 10, "reason": "政策宣传岗践诺评议优秀",
        "evidence_ref": review["evidence_ref"], "occurred_on": "2026-06-30"})
    assert r.status_code == 201, r.text
    rating = (await http.get(f"{base}/members/{ids['陈德明']}/rating", headers=admin, params={"year": 2026})).json()
    assert [(s["category"], s["kind"], s["earned"]) for s in rating["stars"] if s["earned"]] == [("post_duty", "duty", True)]
    assert rating["scores"][0]["evidence_ref"] == review["evidence_ref"]
    commitments = (await http.get(f"{base}/commitments", headers=admin,
                                  params={"year": 2026, "member_id": ids["陈德明"]})).json()
    assert commitments["items"][0]["evidence_ref"] == review["evidence_ref"]  # the score leads back to the review
    assert (commitments["made"], commitments["reviewed"], commitments["fulfilled"]) == (1, 1, 1)

    r = await http.get(f"{base}/posts.xlsx", headers=admin, params={"year": 2026})
    assert r.status_code == 200
    book = load_workbook(io.BytesIO(r.content))
    posts_sheet = list(book["岗位"].iter_rows(values_only=True))
    assert len(posts_sheet) == 4 and posts_sheet[1][0] == "侨港村党支部"
    assert list(book["承诺与评议"].iter_rows(values_only=True))[1][8:11] == ("优秀", "是", review["evidence_ref"])
    p = problem(await http.post(f"{base}/commitments/review", headers=token("auditor", code), json={
        "member_id": ids["陈德明"], "year": 2026, "reviewed_on": "2026-06-30", "reviewed_by": "x", "grade": "良好"}), 403)
