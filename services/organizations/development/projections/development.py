"""organizations.development: one row per person in the development pipeline or on probation (发展党员
台账), and one row per development candidate designation (where and when: the screening of branches
without candidates reads it). Probationary members the registry holds without a pipeline (imported)
get a row too, from their registration, so every probation is listed."""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Column, Date, Index, Integer, String, Text, select
from sqlalchemy.engine import Connection

from shared.catalog import development as dev
from shared.catalog.organizations import MemberRegistered, MemberTransferred
from shared.db import upsert
from shared.envelope import StoredEvent
from shared.projection import Projection

DEVELOPMENT_EVENTS = frozenset({"ApplicationReceived", "ActivistDesignated", "CandidateDesignated",
                                "ProbationaryAdmitted", "ProbationExtended", "MembershipConfirmed",
                                "ProbationCancelled", "DevelopmentDiscontinued"})


class DevelopmentProjection(Projection):
    name = "organizations.development"
    subjects = ("org.applicant.>", "org.member.>")
    handles = DEVELOPMENT_EVENTS | {"MemberRegistered", "MemberTransferred"}

    def define_tables(self) -> None:
        t = self.table
        self.applicants = t(
            "org_applicant", Column("county", String(6), primary_key=True),
            Column("applicant_id", String(64), primary_key=True), Column("name", String(40), nullable=False),
            Column("gender", String(8)), Column("birth_date", Date), Column("branch_id", String(64), nullable=False),
            Column("stage", String(16), nullable=False), Column("source", String(12), nullable=False),
            Column("applied_on", Date), Column("activist_on", Date), Column("training_contacts", Text),
            Column("candidate_on", Date), Column("admitted_on", Date), Column("approved_on", Date),
            Column("probation_ends_on", Date), Column("extensions", Integer, nullable=False, default=0),
            Column("full_from", Date), Column("ended_on", Date), Column("end_reason", Text),
            Column("seq", Integer, nullable=False),
            Index(f"ix_org_applicant_branch{self.suffix}", "county", "branch_id"))
        self.candidates = t(
            "org_candidate_designation", Column("county", String(6), primary_key=True),
            Column("applicant_id", String(64), primary_key=True), Column("branch_id", String(64), nullable=False),
            Column("designated_on", Date, nullable=False))

    def apply(self, conn: Connection, county: str, events: Sequence[StoredEvent]) -> None:
        rows: dict[str, dict] = {}
        candidates: list[dict] = []
        for ev in events:
            e = ev.event
            if isinstance(e, MemberTransferred):
                if e.member_id in rows:
                    rows[e.member_id]["branch_id"] = e.to_branch_id
                else:  # a row of an earlier batch, if the member has one
                    a = self.applicants
                    conn.execute(a.update().where(a.c.county == county, a.c.applicant_id == e.member_id)
                                 .values(branch_id=e.to_branch_id))
                continue
            if isinstance(e, MemberRegistered):
                if e.membership_status == "probationary" and self._row(conn, county, e.member_id, rows) is None:
                    rows[e.member_id] = registry_row(county, ev)
                continue
            if isinstance(e, dev.ApplicationReceived):
                rows[e.applicant_id] = application_row(county, ev)
                continue
            row = self._row(conn, county, e.applicant_id, rows)
            if row is None:
                continue  # a decision on a member this read-model never saw (not probationary here)
            row.update(step_changes(e))
            if isinstance(e, dev.ProbationExtended):
                row["extensions"] = (row.get("extensions") or 0) + 1
            if isinstance(e, dev.CandidateDesignated):
                candidates.append({"county": county, "applicant_id": e.applicant_id, "branch_id": e.branch_id,
                                   "designated_on": e.designated_on})
        upsert(conn, self.applicants, list(rows.values()), ["county", "applicant_id"])
        upsert(conn, self.candidates, candidates, ["county", "applicant_id"])

    def _row(self, conn: Connection, county: str, applicant_id: str, rows: dict[str, dict]) -> dict | None:
        if applicant_id not in rows:
            a = self.applicants
            found = conn.execute(select(a).where(a.c.county == county, a.c.applicant_id == applicant_id)).first()
            if found is None:
                return None
            rows[applicant_id] = dict(found._mapping)
        return rows[applicant_id]


def application_row(county: str, ev: StoredEvent) -> dict:
    e = ev.event
    return {"county": county, "applicant_id": e.applicant_id, "name": e.name, "gender": e.gender,
            "birth_date": e.birth_date, "branch_id": e.branch_id, "stage": "applicant", "source": "development",
            "applied_on": e.applied_on, "activist_on": None, "training_contacts": None, "candidate_on": None,
            "admitted_on": None, "approved_on": None, "probation_ends_on": None, "extensions": 0,
            "full_from": None, "ended_on": None, "end_reason": None, "seq": ev.seq}


def registry_row(county: str, ev: StoredEvent) -> dict:
    """A probationary member registered without a pipeline: the probation's end is the rule table's
    (computed when read) until an extension records one."""
    e = ev.event
    return {"county": county, "applicant_id": e.member_id, "name": e.name, "gender": e.gender,
            "birth_date": e.birth_date, "branch_id": e.branch_id, "stage": "probationary", "source": "registry",
            "applied_on": None, "activist_on": None, "training_contacts": None, "candidate_on": None,
            "admitted_on": e.joined_on, "approved_on": None, "probation_ends_on": None, "extensions": 0,
            "full_from": None, "ended_on": None, "end_reason": None, "seq": ev.seq}


def step_changes(e) -> dict:
    """The columns a later step changes."""
    if isinstance(e, dev.ActivistDesignated):
        return {"stage": "activist", "activist_on": e.designated_on, "training_contacts": "、".join(e.training_contacts)}
    if isinstance(e, dev.CandidateDesignated):
        return {"stage": "candidate", "candidate_on": e.designated_on, "branch_id": e.branch_id}
    if isinstance(e, dev.ProbationaryAdmitted):
        return {"stage": "probationary", "admitted_on": e.branch_meeting_on, "approved_on": e.approved_on,
                "probation_ends_on": e.probation_ends_on, "branch_id": e.branch_id}
    if isinstance(e, dev.ProbationExtended):
        return {"probation_ends_on": e.probation_ends_on}
    if isinstance(e, dev.MembershipConfirmed):
        return {"stage": "full", "full_from": e.full_from, "ended_on": e.approved_on}
    if isinstance(e, dev.ProbationCancelled):
        return {"stage": "cancelled", "ended_on": e.approved_on, "end_reason": e.reason}
    if isinstance(e, dev.DevelopmentDiscontinued):
        return {"stage": "discontinued", "ended_on": e.decided_on, "end_reason": e.reason}
    return {}
