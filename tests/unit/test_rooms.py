"""党代表工作室, pure: delegates, the head among them, liaison staff, activities by the room's delegates, and
the one-row-per-person import decided on every row at once."""
from __future__ import annotations

from datetime import date

import pytest

from shared.errors import DomainError
from services.organizations.rooms.commands import (AppointRoomHead, EstablishRoom, RecordRoomActivity,
                                                   StationDelegate, WithdrawDelegate)
from services.organizations.rooms.domain import Room, RoomActivity, delegate_id_of
from services.organizations.rooms.room_sheet import parse_room_file, record_rooms, room_id_of

TODAY = date(2026, 7, 1)


def room() -> Room:
    r = Room("r1")
    for e in r.establish(EstablishRoom(name="侨港镇党代表工作室", township_id="qiaogang", established_on=date(2023, 5, 1)),
                         township_exists=True, today=TODAY):
        r.apply(e)
    for name in ("黄海燕", "陈德明"):
        for e in r.station(StationDelegate(room_id="r1", name=name, congress_level="县", stationed_on=date(2023, 5, 1)),
                           today=TODAY):
            r.apply(e)
    return r


def test_the_head_is_a_stationed_delegate_and_leaves_with_them():
    r, huang = room(), delegate_id_of("r1", "黄海燕")
    with pytest.raises(DomainError) as stranger:
        r.appoint_head(AppointRoomHead(room_id="r1", delegate_id="nobody", appointed_on=date(2023, 6, 1)), today=TODAY)
    assert stranger.value.code == "delegate_not_found"
    for e in r.appoint_head(AppointRoomHead(room_id="r1", delegate_id=huang, appointed_on=date(2023, 6, 1)), today=TODAY):
        r.apply(e)
    for e in r.withdraw(WithdrawDelegate(room_id="r1", delegate_id=huang, left_on=date(2026, 1, 1), reason="任期届满"),
                        today=TODAY):
        r.apply(e)
    assert r.head is None and list(r.delegates) == [delegate_id_of("r1", "陈德明")]


def test_an_activity_is_recorded_once_by_the_room_s_delegates():
    r, activity = room(), RoomActivity("a1")
    visit = RecordRoomActivity(room_id="r1", kind="走访", held_on=date(2026, 3, 1), people=5, topics="走访困难党员",
                               delegate_ids=[delegate_id_of("r1", "黄海燕")])
    [recorded] = activity.record(visit, room=r, today=TODAY)
    activity.apply(recorded)
    assert recorded.kind == "visit" and activity.record(visit, room=r, today=TODAY) == []
    with pytest.raises(DomainError) as stranger:
        RoomActivity("a2").record(visit.model_copy(update={"delegate_ids": ["x"]}), room=r, today=TODAY)
    assert stranger.value.code == "delegate_not_stationed"


def test_the_import_establishes_rooms_stations_people_and_changes_nothing_the_second_time():
    sheet = ("工作室,乡镇,设立日期,姓名,身份,代表层级,进室日期,负责人\n"
             "侨港镇党代表工作室,侨港镇,2023-05-01,黄海燕,党代表,县,2023-05-01,是\n"
             "侨港镇党代表工作室,侨港镇,2023-05-01,陈德明,党代表,市,2023-05-01,否\n"
             "侨港镇党代表工作室,侨港镇,2023-05-01,李秀英,联络员,,2023-05-01,\n").encode()
    rows, errors = parse_room_file("工作室.csv", sheet, {"侨港镇": "qiaogang"})
    assert not errors and len(rows) == 3
    rid = room_id_of("450503", "侨港镇党代表工作室")
    decision = record_rooms("450503", rows, {rid: Room(rid)}, {"qiaogang"}, today=TODAY)
    assert decision.answer.model_dump() == {"rooms": 1, "delegates": 2, "liaison_staff": 1, "unchanged_rows": 0}
    stored = Room(rid)
    for _, events in decision.changes:
        for e in events:
            stored.apply(e)
    assert stored.head == delegate_id_of(rid, "黄海燕")
    again = record_rooms("450503", rows, {rid: stored}, {"qiaogang"}, today=TODAY)
    assert again.changes == [] and again.answer.unchanged_rows == 3
    bad, problems = parse_room_file("c.csv", sheet.replace("县".encode(), b"", 1), {"侨港镇": "qiaogang"})
    assert [(e.row, e.field) for e in problems] == [(2, "congress_level")]
