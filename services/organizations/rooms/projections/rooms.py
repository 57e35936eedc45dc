"""organizations.rooms: 党代表工作室 — one row per room, one per person currently in it (delegate or
liaison staff), one per reception or visit recorded there."""
from __future__ import annotations

from collections.abc import Sequence

import orjson
from sqlalchemy import Column, Date, Integer, String, Text, delete
from sqlalchemy.engine import Connection

from shared.catalog import rooms as r
from shared.db import upsert
from shared.envelope import StoredEvent
from shared.projection import Projection


class RoomsProjection(Projection):
    name = "organizations.rooms"
    subjects = ("org.room.>", "org.room_activity.>")
    handles = frozenset({"RoomEstablished", "DelegateStationed", "DelegateLeft", "RoomHeadAppointed",
                         "LiaisonStaffAssigned", "LiaisonStaffReleased", "RoomActivityRecorded"})

    def define_tables(self) -> None:
        t = self.table
        self.rooms = t(
            "org_room", Column("county", String(6), primary_key=True), Column("room_id", String(64), primary_key=True),
            Column("name", String(80), nullable=False), Column("township_id", String(64)),
            Column("address", String(120)), Column("established_on", Date, nullable=False),
            Column("head_id", String(64)))
        self.people = t(
            "org_room_person", Column("county", String(6), primary_key=True),
            Column("room_id", String(64), primary_key=True), Column("person_id", String(64), primary_key=True),
            Column("role", String(10), nullable=False), Column("name", String(40), nullable=False),
            Column("congress_level", String(10)), Column("member_id", String(64)), Column("since", Date, nullable=False))
        self.activities = t(
            "org_room_activity", Column("county", String(6), primary_key=True),
            Column("activity_id", String(64), primary_key=True), Column("room_id", String(64), nullable=False),
            Column("kind", String(10), nullable=False), Column("held_on", Date, nullable=False, index=True),
            Column("delegate_ids", Text, nullable=False), Column("people", Integer, nullable=False),
            Column("topics", Text, nullable=False), Column("issues_raised", Integer, nullable=False),
            Column("issues_resolved", Integer, nullable=False))

    def apply(self, conn: Connection, county: str, events: Sequence[StoredEvent]) -> None:
        for ev in events:
            e = ev.event
            if isinstance(e, r.RoomEstablished):
                upsert(conn, self.rooms, [{"county": county, "room_id": e.room_id, "name": e.name,
                                           "township_id": e.township_id, "address": e.address,
                                           "established_on": e.established_on, "head_id": None}],
                       ["county", "room_id"])
            elif isinstance(e, r.DelegateStationed):
                self._person(conn, county, e.room_id, e.delegate_id, "delegate", e.name, e.stationed_on,
                             e.congress_level, e.member_id)
            elif isinstance(e, r.LiaisonStaffAssigned):
                self._person(conn, county, e.room_id, e.staff_id, "staff", e.name, e.assigned_on)
            elif isinstance(e, (r.DelegateLeft, r.LiaisonStaffReleased)):
                person = e.delegate_id if isinstance(e, r.DelegateLeft) else e.staff_id
                p = self.people.c
                conn.execute(delete(self.people).where(p.county == county, p.room_id == e.room_id,
                                                       p.person_id == person))
                rc = self.rooms.c
                conn.execute(self.rooms.update().where(rc.county == county, rc.room_id == e.room_id,
                                                       rc.head_id == person).values(head_id=None))
            elif isinstance(e, r.RoomHeadAppointed):
                rc = self.rooms.c
                conn.execute(self.rooms.update().where(rc.county == county, rc.room_id == e.room_id)
                             .values(head_id=e.delegate_id))
            elif isinstance(e, r.RoomActivityRecorded):
                upsert(conn, self.activities, [{
                    "county": county, "activity_id": e.activity_id, "room_id": e.room_id, "kind": e.kind,
                    "held_on": e.held_on, "delegate_ids": orjson.dumps(list(e.delegate_ids)).decode(),
                    "people": e.people, "topics": e.topics, "issues_raised": e.issues_raised,
                    "issues_resolved": e.issues_resolved}], ["county", "activity_id"])

    def _person(self, conn: Connection, county: str, room_id: str, person_id: str, role: str, name: str, since,
                congress_level: str | None = None, member_id: str | None = None) -> None:
        upsert(conn, self.people, [{"county": county, "room_id": room_id, "person_id": person_id, "role": role,
                                    "name": name, "congress_level": congress_level, "member_id": member_id,
                                    "since": since}], ["county", "room_id", "person_id"])
