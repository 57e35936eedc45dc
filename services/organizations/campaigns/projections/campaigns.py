"""organizations.campaigns: classification per organization per year, and the rectification
ledger (整顿台账): one row per case with its current state, plus each case's timeline."""
from __future__ import annotations

from collections.abc import Sequence

import orjson
from sqlalchemy import Column, Date, Integer, String, Text, select
from sqlalchemy.engine import Connection

from shared.catalog import campaigns as c
from shared.db import upsert
from shared.envelope import StoredEvent
from shared.projection import Projection

CASE_EVENTS = {"OrganizationFlaggedWeak", "RectificationPlanned", "SecretaryReplaced", "FirstSecretaryAssigned",
               "LiaisonLeaderAssigned", "RectificationProgressReported", "RectificationAcceptedByTownship",
               "BranchRectified", "RectificationExtended"}


class CampaignsProjection(Projection):
    name = "organizations.campaigns"
    subjects = ("org.classification.>", "org.rectification.>")
    handles = frozenset({"OrganizationClassified", *CASE_EVENTS})

    def define_tables(self) -> None:
        t = self.table
        self.classifications = t(
            "org_classification", Column("county", String(6), primary_key=True),
            Column("organization_id", String(64), primary_key=True), Column("year", Integer, primary_key=True),
            Column("grade", String(12), nullable=False), Column("programme", String(12), nullable=False),
            Column("item_set", String(32), nullable=False), Column("items", Text, nullable=False),
            Column("note", Text), Column("classified_on", Date, nullable=False))
        self.cases = t(
            "org_rectification_case", Column("county", String(6), primary_key=True),
            Column("case_id", String(140), primary_key=True), Column("organization_id", String(64), nullable=False),
            Column("campaign", String(32), nullable=False), Column("reasons", Text, nullable=False),
            Column("status", String(20), nullable=False), Column("screened_on", Date), Column("decided_on", Date),
            Column("due_on", Date), Column("plan", Text), Column("measures", Text),
            Column("liaison_leader", String(40)), Column("first_secretary", String(40)),
            Column("first_secretary_to", Date), Column("secretary", String(40)),
            Column("township_accepted_on", Date), Column("accepted_on", Date), Column("follow_up_until", Date),
            Column("relapse_of", String(140)), Column("progress_reports", Integer, nullable=False, default=0))
        self.timeline = t(
            "org_rectification_timeline", Column("county", String(6), primary_key=True),
            Column("seq", Integer, primary_key=True), Column("case_id", String(140), nullable=False, index=True),
            Column("event_type", String(40), nullable=False), Column("on_date", Date), Column("summary", Text),
            Column("actor", String(120)))

    def apply(self, conn: Connection, county: str, events: Sequence[StoredEvent]) -> None:
        classified, cases, steps = {}, {}, []
        for ev in events:
            e = ev.event
            if isinstance(e, c.OrganizationClassified):
                classified[(e.organization_id, e.year)] = {
                    "county": county, "organization_id": e.organization_id, "year": e.year, "grade": e.grade,
                    "programme": e.programme, "item_set": e.item_set, "items": orjson.dumps(e.items).decode(),
                    "note": e.note, "classified_on": e.classified_on}
                continue
            case = cases.get(e.case_id) or self._load_case(conn, county, e.case_id) or {}
            case = cases[e.case_id] = {**case, **_case_changes(county, e, case)}
            on_date, summary = _step(e)
            steps.append({"county": county, "seq": ev.seq, "case_id": e.case_id, "event_type": ev.type,
                          "on_date": on_date, "summary": summary, "actor": ev.actor})
        upsert(conn, self.classifications, list(classified.values()), ["county", "organization_id", "year"])
        upsert(conn, self.cases, list(cases.values()), ["county", "case_id"])
        if steps:
            conn.execute(self.timeline.insert(), steps)

    def _load_case(self, conn: Connection, county: str, case_id: str) -> dict | None:
        row = conn.execute(select(self.cases).where(self.cases.c.county == county,
                                                    self.cases.c.case_id == case_id)).first()
        return dict(row._mapping) if row else None


def _case_changes(county: str, e, case: dict) -> dict:
    if isinstance(e, c.OrganizationFlaggedWeak):
        return {"county": county, "case_id": e.case_id, "organization_id": e.organization_id, "campaign": e.campaign,
                "reasons": ",".join(e.reasons), "status": "flagged", "screened_on": e.screened_on,
                "decided_on": e.decided_on, "relapse_of": e.relapse_of, "progress_reports": 0}
    if isinstance(e, c.RectificationPlanned):
        return {"status": "planned", "plan": e.plan, "measures": "；".join(e.measures), "due_on": e.due_on,
                "liaison_leader": e.liaison_leader or case.get("liaison_leader")}
    if isinstance(e, c.SecretaryReplaced):
        return {"secretary": e.new_name}
    if isinstance(e, c.FirstSecretaryAssigned):
        return {"first_secretary": e.person_name, "first_secretary_to": e.to_on}
    if isinstance(e, c.LiaisonLeaderAssigned):
        return {"liaison_leader": e.leader_name}
    if isinstance(e, c.RectificationProgressReported):
        return {"progress_reports": (case.get("progress_reports") or 0) + 1}
    if isinstance(e, c.RectificationAcceptedByTownship):
        return {"status": "township_accepted", "township_accepted_on": e.accepted_on}
    if isinstance(e, c.BranchRectified):
        return {"status": "rectified", "accepted_on": e.accepted_on, "follow_up_until": e.follow_up_until}
    if isinstance(e, c.RectificationExtended):
        return {"status": "planned", "due_on": e.new_due_on, "township_accepted_on": None}
    return {}


def _step(e) -> tuple:
    """(date, one-line summary) of a case event for the timeline."""
    if isinstance(e, c.OrganizationFlaggedWeak):
        return e.decided_on, "列入软弱涣散（" + "、".join(e.reasons) + "）" + ("，复发" if e.relapse_of else "")
    if isinstance(e, c.RectificationPlanned):
        return None, f"制定整顿方案，期限 {e.due_on}：{e.plan}"
    if isinstance(e, c.SecretaryReplaced):
        return e.replaced_on, f"调整书记：{e.previous_name or ''} → {e.new_name}"
    if isinstance(e, c.FirstSecretaryAssigned):
        return e.from_on, f"选派第一书记 {e.person_name}（{e.from_on} 至 {e.to_on}）"
    if isinstance(e, c.LiaisonLeaderAssigned):
        return e.assigned_on, f"县级领导包联：{e.leader_name}"
    if isinstance(e, c.RectificationProgressReported):
        return e.reported_on, f"进展：{e.summary}"
    if isinstance(e, c.RectificationAcceptedByTownship):
        return e.accepted_on, f"乡镇验收（{e.accepted_by}）"
    if isinstance(e, c.BranchRectified):
        return e.accepted_on, f"县级验收销号（{e.accepted_by}）"
    if isinstance(e, c.RectificationExtended):
        return None, f"延期至 {e.new_due_on}：{e.reason}"
    return None, ""
