"""Month-end scoring over HTTP against the real services: a JSON batch and an uploaded 积分表, each row its
own score (scope, validation, idempotency), read back at once; the same table again records nothing twice."""
from __future__ import annotations

from tests.e2e.test_http_api import setup_county

SCHEME = {"name": "2026年北海党员五星", "preset": "beihai-5"}


async def test_a_batch_and_a_table_record_each_row_on_its_own(http, token):
    code, admin, branches = await setup_county(http, token)
    members = []
    for i, branch in enumerate(branches):
        r = await http.post(f"/api/v1/counties/{code}/members", headers=admin, json={
            "name": f"张秀玲{i}", "gender": "女", "birth_date": "1978-03-08", "membership_status": "正式党员",
            "joined_on": "2001-07-01", "branch_id": branch})
        assert r.status_code == 201, r.text
        members.append(r.json()["member_id"])
    assert (await http.put(f"/api/v1/counties/{code}/star-schemes/2026", headers=admin, json=SCHEME)).status_code \
        in (200, 201)
    operator = token("township_operator", code, township="qiaogang")
    entries = [{"rated_kind": "member", "rated_id": m, "year": 2026, "category": "lead_by_example", "points": 4,
                "reason": "带头参与防汛抢险", "occurred_on": "2026-07-20", "idempotency_key": f"july-{m}"}
               for m in members]
    entries.append({**entries[0], "idempotency_key": "july-bad", "points": 99})
    r = await http.post(f"/api/v1/counties/{code}/scores/batch", headers=operator, json={"scores": entries})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["recorded"], body["refused"]) == (2, 1)
    assert body["results"][2]["error"]["code"] == "points_out_of_bounds"
    assert body["results"][2]["error"]["errors"][0]["field"] == "body.scores.2.points"

    table = "对象编号,类别,分值,事由,发生日期\n" + "".join(
        f"{m},lead_by_example,6,按时参加组织生活,2026-08-01\n" for m in members) + "nobody,lead_by_example,3,x,2026-08-01\n"
    files = {"file": ("八月积分表.csv", table.encode("utf-8"), "text/csv")}
    r = await http.post(f"/api/v1/counties/{code}/scores/import", headers=operator, files=files)
    assert r.status_code == 200, r.text
    rows, rows_seq = r.json()["rows"], r.json()["seq"]
    assert [(x["row"], x["ok"]) for x in rows] == [(2, True), (3, True), (4, False)]
    assert rows[2]["error"]["code"] == "member_not_found"

    # read-your-writes: the operator's next read waits for the import's sequence
    r = await http.get(f"/api/v1/counties/{code}/members/{members[0]}/rating", params={"year": 2026}, headers=operator)
    assert r.json()["stars"][0]["points"] == 10

    again = await http.post(f"/api/v1/counties/{code}/scores/import", headers=operator, files=files)
    assert [x["replayed"] for x in again.json()["rows"][:2]] == [True, True]
    assert [x["score_id"] for x in again.json()["rows"][:2]] == [x["score_id"] for x in rows[:2]]
    r = await http.get(f"/api/v1/counties/{code}/members/{members[1]}/rating", params={"year": 2026},
                       headers={**admin, "Dangjian-Min-Seq": str(rows_seq)})  # another user's write
    assert r.json()["stars"][0]["points"] == 10 and len(r.json()["scores"]) == 2
