"""党代表工作室 over HTTP against the real services: a district's 118 rooms with 774 delegates and 146 liaison
staff imported from one spreadsheet (the figures one district published), imported again without change,
receptions and visits recorded and counted by township, the registry exported and imported back, scopes."""
from __future__ import annotations

import io

from openpyxl import Workbook, load_workbook

from tests.e2e.test_http_campaigns import new_county_with_townships, problem

TOWNSHIPS = {"qiaogang": "侨港镇", "gaode": "高德街道", "fumian": "福成镇", "yinhai": "银滩镇"}
ROOMS, DELEGATES, STAFF = 118, 774, 146


def room_sheet(township_index: int) -> bytes:
    """One township's rooms (every fourth room of the district): the district's figures come in four files."""
    lines = ["工作室,乡镇,设立日期,姓名,身份,代表层级,进室日期,负责人"]
    for k in range(township_index, ROOMS, 4):
        room, township = f"第{k + 1:03d}党代表工作室", list(TOWNSHIPS.values())[k % 4]
        delegates = 7 if k < DELEGATES - 6 * ROOMS else 6
        for d in range(delegates):
            lines.append(f"{room},{township},2023-05-01,代表{k:03d}-{d},党代表,{'县' if d else '市'},2023-05-01,"
                         f"{'是' if d == 0 else '否'}")
        for s in range(2 if k < STAFF - ROOMS else 1):
            lines.append(f"{room},{township},2023-05-01,联络员{k:03d}-{s},联络员,,2023-05-01,")
    return "\n".join(lines).encode()


async def test_a_district_s_118_rooms_774_delegates_146_liaison_staff(http, token):
    code, admin = await new_county_with_townships(http, token, TOWNSHIPS)
    base = f"/api/v1/counties/{code}"
    imported = {"rooms": 0, "delegates": 0, "liaison_staff": 0}
    for n, township in enumerate(TOWNSHIPS):  # each township's operator imports its own rooms
        operator = token("township_operator", code, township=township)
        r = await http.post(f"{base}/rooms/import", headers=operator,
                            files={"file": ("工作室.csv", room_sheet(n), "text/csv")})
        assert r.status_code == 201, r.text
        imported = {k: v + r.json()[k] for k, v in imported.items()}
    assert imported == {"rooms": ROOMS, "delegates": DELEGATES, "liaison_staff": STAFF}
    r = await http.post(f"{base}/rooms/import", headers=admin, files={"file": ("工作室.csv", room_sheet(1), "text/csv")})
    rows_of_gaode = len(room_sheet(1).splitlines()) - 1
    assert (r.json()["rooms"], r.json()["delegates"], r.json()["unchanged_rows"]) == (0, 0, rows_of_gaode)
    p = problem(await http.post(f"{base}/rooms/import", headers=token("township_operator", code, township="qiaogang"),
                                files={"file": ("工作室.csv", room_sheet(1), "text/csv")}), 403)
    assert "本乡镇" in p["detail"]  # another township's rooms: the file is refused as a whole

    rooms = (await http.get(f"{base}/rooms", headers=admin, params={"township_id": "qiaogang"})).json()
    assert rooms["rooms"] == 30 and all(room["head"] and room["head"].endswith("-0") for room in rooms["items"])
    first = rooms["items"][0]
    delegates = [d["person_id"] for d in first["delegates"][:3]]
    operator = token("township_operator", code, township="qiaogang")
    reception = {"kind": "接待", "held_on": "2026-03-15", "delegate_ids": delegates, "people": 23,
                 "topics": "渔港码头改造、医保缴费", "issues_raised": 6, "issues_resolved": 4, "activity_id": "r-0315"}
    r = await http.post(f"{base}/rooms/{first['room_id']}/activities", headers=operator, json=reception)
    assert r.status_code == 200, r.text
    again = await http.post(f"{base}/rooms/{first['room_id']}/activities", headers=operator, json=reception)
    assert again.status_code == 200, again.text  # the same activity id: recorded once
    r = await http.post(f"{base}/rooms/{first['room_id']}/activities", headers=admin, json={
        "kind": "visit", "held_on": "2026-04-02", "delegate_ids": delegates[:1], "people": 8, "topics": "走访困难党员"})
    assert r.status_code == 200, r.text
    other_room = next(i for i in (await http.get(f"{base}/rooms", headers=admin, params={"township_id": "gaode"})
                                  ).json()["items"])
    problem(await http.post(f"{base}/rooms/{other_room['room_id']}/activities", headers=operator,
                            json={**reception, "activity_id": "r-x"}), 403)
    p = problem(await http.post(f"{base}/rooms/{first['room_id']}/activities", headers=admin, json={
        **reception, "activity_id": None, "delegate_ids": [other_room["delegates"][0]["person_id"]]}), 422)
    assert p["code"] == "delegate_not_stationed"
    p = problem(await http.post(f"{base}/rooms/{first['room_id']}/activities", headers=admin,
                                json={**reception, "issues_resolved": 9}), 422)

    figures = (await http.get(f"{base}/room-figures", headers=admin, params={"year": 2026})).json()
    assert {k: figures["county"][k] for k in ("rooms", "delegates", "liaison_staff", "receptions", "visits", "people",
                                             "issues_raised", "issues_resolved")} == {
        "rooms": ROOMS, "delegates": DELEGATES, "liaison_staff": STAFF, "receptions": 1, "visits": 1, "people": 31,
        "issues_raised": 6, "issues_resolved": 4}
    qiaogang = next(t for t in figures["townships"] if t["township_id"] == "qiaogang")
    assert (qiaogang["rooms"], qiaogang["receptions"], qiaogang["visits"]) == (30, 1, 1)

    r = await http.get(f"{base}/rooms.xlsx", headers=admin, params={"year": 2026})
    assert r.status_code == 200
    book = load_workbook(io.BytesIO(r.content))
    people = list(book["工作室人员"].iter_rows(values_only=True))
    assert len(people) == 1 + DELEGATES + STAFF and book["接待走访"].max_row == 3
    assert sum(row[7] == "是" for row in people) == ROOMS  # one head per room
    qiaogang_rows = [people[0]] + [row for row in people[1:] if row[1] == "侨港镇"]
    sheet, wb = io.BytesIO(), Workbook()
    for row in qiaogang_rows:
        wb.active.append(row)
    wb.save(sheet)
    r = await http.post(f"{base}/rooms/import", headers=admin, files={"file": ("台账.xlsx", sheet.getvalue(), "x")})
    assert r.status_code == 201, r.text  # the exported registry imports again unchanged
    assert (r.json()["rooms"], r.json()["delegates"], r.json()["unchanged_rows"]) == (0, 0, len(qiaogang_rows) - 1)
    problem(await http.post(f"{base}/rooms", headers=token("branch_secretary", code, branch="b1"), json={
        "name": "新工作室", "established_on": "2026-01-01"}), 403)
