"""What the star, coverage and member rules need, folded by notifications.rules beside its other facts:
members' names and branches, applicants in development and probation, members recorded away, star
schemes and points (with each score, so a revocation can be undone), the units' states, the county's
rule tables (organizations context: qualifying units, targets, development and mobile rules, each from
its effective date) and whether each coverage target was met.

Rows are written as each event is folded (the batch's transaction; what a later event of the same batch
reads is what the earlier ones wrote). Star and coverage drafts are decided here, as events are folded,
because they compare the state before and after the event.
"""
from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

import orjson
from sqlalchemy import Column, Date, Integer, String, Text, select
from sqlalchemy.engine import Connection

from shared.catalog.ratings import StarSchemeDefined
from shared.catalog.rules import RuleTable
from shared.db import upsert
from services.notifications.conditions import add_months
from services.notifications.rules import Draft
from services.notifications.star_rules import coverage_draft, star_drafts
from services.organizations.enterprises.coverage import coverage, qualifies
from services.organizations.enterprises.domain import Enterprise, EnterpriseState
from services.organizations.rules.baseline import table_in_force
from services.ratings.projections.stars_rows import in_force as scheme_in_force
from services.ratings.scheme import StarScheme

PEOPLE_EVENTS = {"MemberRegistered", "MemberTransferred", "ApplicationReceived", "CandidateDesignated",
                 "ProbationaryAdmitted", "ProbationExtended", "MembershipConfirmed", "ProbationCancelled",
                 "DevelopmentDiscontinued", "MemberAwayRecorded", "MobileMemberRegistered", "MobileMemberReturned"}
STAR_EVENTS = {"StarSchemeDefined", "MemberScored", "OrganizationScored", "ScoreRevoked"}
UNIT_STATE_EVENTS = {"EnterpriseRegistered", "EnterpriseHeadcountUpdated", "EnterpriseClosed", "EnterpriseReopened",
                     "EnterpriseBranchFounded", "InstructorAssigned", "InstructorWithdrawn",
                     "MassOrganizationEstablished"}
MORE_EVENTS = PEOPLE_EVENTS | STAR_EVENTS | UNIT_STATE_EVENTS | {"RulesAdopted"}
STAGE_OF = {"ApplicationReceived": "applicant", "CandidateDesignated": "candidate", "ProbationaryAdmitted": "probationary",
            "ProbationExtended": "probationary", "MembershipConfirmed": "full", "ProbationCancelled": "ended",
            "DevelopmentDiscontinued": "ended"}


def define(t) -> dict[str, Any]:
    c = lambda name, *cols: t(name, Column("county", String(6), primary_key=True), *cols)  # noqa: E731
    return {
        "members": c("nr_member", Column("member_id", String(64), primary_key=True), Column("name", String(120)),
                     Column("branch_id", String(64))),
        "applicants": c("nr_applicant", Column("applicant_id", String(64), primary_key=True), Column("name", String(120)),
                        Column("branch_id", String(64)), Column("stage", String(16), nullable=False),
                        Column("candidate_on", Date), Column("probation_ends_on", Date)),
        "away": c("nr_away", Column("member_id", String(64), primary_key=True), Column("branch_id", String(64)),
                  Column("away_since", Date), Column("status", String(12), nullable=False)),
        "schemes": c("nr_scheme", Column("year", Integer, primary_key=True), Column("rated_kind", String(12), primary_key=True),
                     Column("scope", String(64), primary_key=True), Column("body", Text, nullable=False)),
        "points": c("nr_points", Column("rated_kind", String(12), primary_key=True), Column("rated_id", String(64), primary_key=True),
                    Column("year", Integer, primary_key=True), Column("category", String(40), primary_key=True),
                    Column("points", Integer, nullable=False)),
        "scores": c("nr_score", Column("score_id", String(140), primary_key=True), Column("category", String(40)),
                    Column("points", Integer, nullable=False), Column("branch_id", String(64))),
        "unit_states": c("nr_unit_state", Column("enterprise_id", String(64), primary_key=True),
                         Column("body", Text, nullable=False)),
        "rule_tables": c("nr_rule_table", Column("effective_from", Date, primary_key=True), Column("body", Text, nullable=False)),
        "targets": c("nr_target", Column("code", String(40), primary_key=True), Column("met", Integer, nullable=False),
                     Column("population", Integer, nullable=False)),
    }


def _state_json(state: EnterpriseState) -> str:
    return orjson.dumps(dataclasses.asdict(state), default=lambda v: sorted(v) if isinstance(v, frozenset) else str(v)
                        ).decode()


def _state(body: str) -> EnterpriseState:
    d = orjson.loads(body)
    d["registered_on"] = date.fromisoformat(d["registered_on"])
    d["instructor"] = tuple(d["instructor"]) if d["instructor"] else None
    d["mass_organizations"] = frozenset(d["mass_organizations"])
    return EnterpriseState(**d)


class MoreFacts:
    def __init__(self, tables: dict[str, Any], conn: Connection, county: str, facts):
        self.t, self.conn, self.county, self.facts = tables, conn, county, facts

    def _one(self, name: str, **key):
        t = self.t[name]
        return self.conn.execute(select(t).where(t.c.county == self.county,
                                                 *(t.c[k] == v for k, v in key.items()))).first()

    def _put(self, name: str, row: dict, *keys: str) -> None:
        upsert(self.conn, self.t[name], [{"county": self.county, **row}], ("county", *keys))

    # -- the county's rule tables (organizations context) -------------------------------------
    def rule_table(self, day: date) -> RuleTable:
        t = self.t["rule_tables"]
        bodies = self.conn.execute(select(t.c.body).where(t.c.county == self.county)).scalars()
        return table_in_force([RuleTable.model_validate_json(b) for b in bodies], day)

    def qualifies(self, state: EnterpriseState, day: date) -> bool:
        table = self.rule_table(day)
        return state.organization_id is None and qualifies(state, table.qualifying, table.coverage)

    # -- folding ----------------------------------------------------------------------------
    def fold(self, type_: str, e, event_id: str, day: date, decide: bool) -> list[Draft]:
        if type_ == "RulesAdopted":
            self._put("rule_tables", {"effective_from": e.table.effective_from, "body": e.table.model_dump_json()},
                      "effective_from")
            t = self.t["unit_states"]
            for body in self.conn.execute(select(t.c.body).where(t.c.county == self.county)).scalars():
                state = _state(body)  # which units qualify follows the table from its date
                self.facts.unit_state(state, e.table.effective_from, self.qualifies(state, e.table.effective_from))
            return self._targets(event_id, day, decide)
        if type_ in UNIT_STATE_EVENTS:
            return self._unit(e, event_id, decide)
        if type_ in STAR_EVENTS:
            return self._stars(type_, e, event_id, decide)
        self._people(type_, e)
        return []

    def _people(self, type_: str, e) -> None:
        if type_ == "MemberRegistered":
            self._put("members", {"member_id": e.member_id, "name": e.name, "branch_id": e.branch_id}, "member_id")
            if e.membership_status == "probationary" and self._one("applicants", applicant_id=e.member_id) is None:
                # registered without a pipeline (an import): probation by the rule table, from joining
                months = self.rule_table(e.joined_on).development.probation_months
                self._put("applicants", {"applicant_id": e.member_id, "name": e.name, "branch_id": e.branch_id,
                                         "stage": "probationary", "candidate_on": None,
                                         "probation_ends_on": add_months(e.joined_on, months)}, "applicant_id")
        elif type_ == "MemberTransferred":
            row = self._one("members", member_id=e.member_id)
            self._put("members", {"member_id": e.member_id, "name": row.name if row else None,
                                  "branch_id": e.to_branch_id}, "member_id")
        elif type_ in STAGE_OF:
            row = self._one("applicants", applicant_id=e.applicant_id)
            cur = dict(row._mapping) if row else {"applicant_id": e.applicant_id, "name": None, "branch_id": None,
                                                   "candidate_on": None, "probation_ends_on": None}
            cur.pop("county", None)
            cur["stage"] = STAGE_OF[type_]
            if type_ == "ApplicationReceived":
                cur.update(name=e.name, branch_id=e.branch_id)
            elif type_ == "CandidateDesignated":
                cur.update(branch_id=e.branch_id, candidate_on=e.designated_on)
            elif type_ in ("ProbationaryAdmitted", "ProbationExtended"):
                cur["probation_ends_on"] = e.probation_ends_on
                if type_ == "ProbationaryAdmitted":
                    cur["branch_id"] = e.branch_id
            self._put("applicants", cur, "applicant_id")
        elif type_ == "MemberAwayRecorded":
            self._put("away", {"member_id": e.member_id, "branch_id": e.branch_id, "away_since": e.away_since,
                               "status": "away"}, "member_id")
        elif type_ in ("MobileMemberRegistered", "MobileMemberReturned"):
            row = self._one("away", member_id=e.member_id)
            self._put("away", {"member_id": e.member_id, "branch_id": row.branch_id if row else None,
                               "away_since": row.away_since if row else getattr(e, "away_since", None),
                               "status": "mobile" if type_ == "MobileMemberRegistered" else "returned"}, "member_id")

    # -- units and coverage targets ------------------------------------------------------------
    def _unit(self, e, event_id: str, decide: bool) -> list[Draft]:
        row = self._one("unit_states", enterprise_id=e.enterprise_id)
        if row is None and type(e).__name__ != "EnterpriseRegistered":
            return []  # nothing is known of a unit before its registration
        unit = Enterprise.from_snapshot(_state(row.body)) if row else Enterprise(e.enterprise_id)
        unit.apply(e)
        state = unit.snapshot()
        self._put("unit_states", {"enterprise_id": e.enterprise_id, "body": _state_json(state)}, "enterprise_id")
        self.facts.unit_state(state, e.business_date, self.qualifies(state, e.business_date))
        return self._targets(event_id, e.business_date, decide)

    def _targets(self, event_id: str, day: date, decide: bool) -> list[Draft]:
        """Each target's figure after the change; a target met (with units to count) and now missed falls."""
        table = self.rule_table(day)
        if not table.targets:
            return []
        t = self.t["unit_states"]
        states = [_state(b) for b in self.conn.execute(select(t.c.body).where(t.c.county == self.county)).scalars()]
        out = []
        for result in coverage(states, table, county=self.county).targets:
            before = self._one("targets", code=result.code)
            if decide and before is not None and before.met and before.population and not result.met:
                out.append(coverage_draft(self.county, result.code, result.name, result.rate, result.achieved,
                                          result.population, result.satisfied, day, event_id))
            self._put("targets", {"code": result.code, "met": int(result.met), "population": result.population}, "code")
        return out

    # -- stars -------------------------------------------------------------------------------
    def _stars(self, type_: str, e, event_id: str, decide: bool) -> list[Draft]:
        if type_ == "StarSchemeDefined":
            self._put("schemes", {"year": e.year, "rated_kind": e.rated_kind, "scope": e.township_id or "county",
                                  "body": e.model_dump_json()}, "year", "rated_kind", "scope")
            return []
        if type_ == "ScoreRevoked":
            score = self._one("scores", score_id=e.score_id)
            if score is None:
                return []
            kind, rid, category, delta, branch = e.rated_kind, e.rated_id, score.category, -score.points, score.branch_id
            day = None
        else:
            kind = "member" if type_ == "MemberScored" else "organization"
            rid = e.member_id if kind == "member" else e.organization_id
            category, delta, branch, day = e.category, e.points, e.branch_id, e.occurred_on
            self._put("scores", {"score_id": e.score_id, "category": category, "points": e.points,
                                 "branch_id": branch}, "score_id")
        p = self.t["points"]
        where = (p.c.county == self.county, p.c.rated_kind == kind, p.c.rated_id == rid, p.c.year == e.year)
        before = {r.category: r.points for r in self.conn.execute(select(p.c.category, p.c.points).where(*where))}
        after = {**before, category: before.get(category, 0) + delta}
        self._put("points", {"rated_kind": kind, "rated_id": rid, "year": e.year, "category": category,
                             "points": after[category]}, "rated_kind", "rated_id", "year", "category")
        if not decide or (kind == "member" and not self.facts.rule_settings().enabled(
                "member_star_changed", day or date.today())):
            return []  # opt-in: most counties fold members' points without rating them on every score
        org_id = rid if kind == "organization" else branch
        if kind == "member" and org_id is None:
            member = self._one("members", member_id=rid)
            org_id = member.branch_id if member else None
        org = self.facts.organization(org_id) if org_id else None
        scheme = self._scheme(e.year, kind, org.township_id if org else None)
        if scheme is None or org is None:
            return []
        name = org.name if kind == "organization" else (self._member_name(rid))
        return star_drafts(self.county, kind, rid, name, org, org_id, e.year, scheme, before, after,
                           day or date.today(), event_id)

    def _member_name(self, member_id: str) -> str | None:
        row = self._one("members", member_id=member_id)
        return row.name if row else None

    def _scheme(self, year: int, kind: str, township_id: str | None) -> StarScheme | None:
        s = self.t["schemes"]
        rows = self.conn.execute(select(s).where(s.c.county == self.county, s.c.year == year, s.c.rated_kind == kind))
        schemes = {(r.year, r.rated_kind, r.scope): r.body for r in rows}
        body = scheme_in_force(schemes, year, kind, township_id)
        return StarScheme.from_event(StarSchemeDefined.model_validate_json(body)) if body else None

