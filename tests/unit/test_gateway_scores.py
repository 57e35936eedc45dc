"""Scores in bulk at the HTTP edge: the JSON batch split into record_scores requests of 1,000 and merged in
order, the 积分表 import (rows read, refused rows named by column, the result as JSON or a workbook) and its
template. The ratings service is stood in for by an answer that records every entry it is sent."""
from __future__ import annotations

import io

from openpyxl import Workbook, load_workbook

from services.gateway.files import XLSX
from services.gateway.score_sheet import TEMPLATE_COLUMNS
from tests.unit.gateway_support import COUNTY, OTHER, assert_problem, token

URL = f"/api/v1/counties/{COUNTY}/scores"


def entry(i: int, **extra) -> dict:
    return {"rated_kind": "member", "rated_id": f"m{i}", "year": 2026, "category": "member_corps", "points": 2,
            "reason": "带头参与防汛抢险", "occurred_on": "2026-06-01", "idempotency_key": f"k{i}", **extra}


def stand_in(fake) -> list[int]:
    """record_scores that refuses entries with points 0 (naming the field) and records the rest."""
    sizes: list[int] = []

    def answer(body: dict) -> dict:
        scores = body["data"]["scores"]
        sizes.append(len(scores))
        results = [{"index": i, "ok": True, "score_id": f"s-{s['idempotency_key']}", "replayed": False, "error": None}
                   if s["points"] else
                   {"index": i, "ok": False, "score_id": None, "replayed": False,
                    "error": {"code": "invalid_input", "detail": "输入有误 / invalid input", "status": 422,
                              "errors": [{"field": "points", "message": "points must not be 0"}]}}
                   for i, s in enumerate(scores)]
        refused = sum(not r["ok"] for r in results)
        return {"ok": True, "seq": 100 + len(sizes),
                "data": {"results": results, "recorded": len(results) - refused, "replayed": 0, "refused": refused}}

    fake.replies[f"pb.{COUNTY}.cmd.ratings.record_scores"] = answer
    return sizes


def test_a_batch_goes_in_requests_of_a_thousand_and_answers_each_entry_in_order(http, fake):
    sizes = stand_in(fake)
    entries = [entry(i, points=0 if i == 1500 else 2) for i in range(2_345)]
    r = http.post(f"{URL}/batch", json={"scores": entries}, headers=token("township_operator", township="qiaogang"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert sorted(sizes) == [345, 1000, 1000]
    assert [x["index"] for x in body["results"]] == list(range(2_345))
    assert body["results"][2_000]["score_id"] == "s-k2000"
    assert (body["recorded"], body["refused"]) == (2_344, 1)
    assert body["results"][1500]["error"]["errors"] == [{"field": "body.scores.1500.points",
                                                         "message": "points must not be 0"}]
    assert body["seq"] == 103 and r.headers["Dangjian-Seq"] == "103"


def test_a_batch_is_checked_at_the_edge(http, fake):
    stand_in(fake)
    assert_problem(http.post(f"{URL}/batch", json={"scores": []}, headers=token()), 422, "invalid_input")
    assert_problem(http.post(f"{URL}/batch", json={"scores": [entry(0)]}, headers=token("auditor")), 403, "forbidden")
    assert_problem(http.post(f"/api/v1/counties/{OTHER}/scores/batch", json={"scores": [entry(0)]},
                             headers=token()), 403, "forbidden")
    assert fake.calls == []


def sheet(rows: list[list]) -> bytes:
    wb = Workbook()
    for row in rows:
        wb.active.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_an_uploaded_table_answers_every_row_and_names_bad_cells(http, fake):
    stand_in(fake)
    content = sheet([TEMPLATE_COLUMNS,
                     ["党员", "zhang-xiuling", 2026, "member_corps", 5, "带头参与防汛抢险", "", "2026-07-20", "a"],
                     ["党员", "li-weidong", None, "member_corps", "五", "按时交纳党费", "", "2026/7/1", ""],
                     ["党组织", "qiaogang-village", None, "leadership_team", -2, "班子不团结", "", "2026年3月2日", ""],
                     ["党员", "wang-fang", 2026, "member_corps", 0, "带头参与防汛抢险", "", "2026-07-20", ""]])
    files = {"file": ("积分表.xlsx", content, XLSX)}
    r = http.post(f"{URL}/import", files=files, headers=token())
    assert r.status_code == 200, r.text
    rows = r.json()["rows"]
    assert [(x["row"], x["ok"]) for x in rows] == [(2, True), (3, False), (4, True), (5, False)]
    assert rows[1]["error"]["errors"][0]["field"] == "points"
    sent = fake.calls[-1][1]["data"]["scores"]
    assert sent[1]["rated_kind"] == "organization" and sent[1]["year"] == 2026 and sent[1]["points"] == -2
    assert sent[1]["occurred_on"] == "2026-03-02" and sent[1]["idempotency_key"].startswith("sheet-")
    assert r.json()["refused"] == 2

    again = http.post(f"{URL}/import", files=files, headers={**token(), "Accept": XLSX})
    assert again.headers["content-type"] == XLSX
    ws = load_workbook(io.BytesIO(again.content)).active
    values = [[c.value for c in row] for row in ws.iter_rows(min_row=2)]
    assert [v[:2] for v in values] == [[2, "已记录"], [3, "未通过"], [4, "已记录"], [5, "未通过"]]
    assert values[1][3] == "points" and "分值" in values[1][4]
    assert fake.calls[-1][1]["data"]["scores"][1]["idempotency_key"] == sent[1]["idempotency_key"]  # same row, same key


def test_a_table_without_its_columns_is_refused_whole(http, fake):
    stand_in(fake)
    r = http.post(f"{URL}/import", files={"file": ("t.csv", "对象编号,分值\nm1,3\n".encode(), "text/csv")},
                  headers=token())
    errors = assert_problem(r, 422, "invalid_input")["errors"]
    assert {e["field"] for e in errors} == {"file.category", "file.reason", "file.occurred_on"}
    assert fake.calls == []


def test_the_template_is_a_workbook_with_the_columns(http):
    r = http.get(f"{URL}/import/template", headers=token("township_operator", township="qiaogang"))
    assert r.status_code == 200 and r.headers["content-type"] == XLSX
    assert [c.value for c in load_workbook(io.BytesIO(r.content)).active[1]] == TEMPLATE_COLUMNS


def test_when_no_entry_is_recorded_the_request_is_refused_with_each_entrys_errors(http, fake):
    stand_in(fake)
    r = http.post(f"{URL}/batch", json={"scores": [entry(0, points=0), entry(1, points=0)]}, headers=token())
    errors = assert_problem(r, 422, "invalid_input")["errors"]
    assert [e["field"] for e in errors] == ["body.scores.0.points", "body.scores.1.points"]
    table = "对象编号,类别,分值,事由,发生日期\nm1,member_corps,0,带头参与防汛抢险,2026-07-20\nm2,member_corps,x,y,2026-07-20\n"
    r = http.post(f"{URL}/import", files={"file": ("t.csv", table.encode(), "text/csv")}, headers=token())
    errors = assert_problem(r, 422, "invalid_input")["errors"]
    assert [e["field"] for e in errors] == ["file.row2.points", "file.row3.points"]
