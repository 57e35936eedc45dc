"""notifications.rules: folds the organizations' events into what the rules need (names, townships,
cases, classes, terms, due dates) and writes each notification a rule decides into the outbox — in the
same transaction as its checkpoint, so a decided notification is never lost; the issuer
(services/notifications/issuer.py) records it as an event and empties the outbox.

The outbox is not part of the rebuildable tables: a rebuild (a fresh instance with a suffix) folds the
facts again but decides nothing, so rebuilding never issues old notifications again.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import orjson
from sqlalchemy import Column, Date, DateTime, Integer, MetaData, String, Table, Text, select
from sqlalchemy.engine import Connection, Engine

from shared.catalog.notifications import NotificationRulesAdopted
from shared.db import upsert
from shared.envelope import StoredEvent
from shared.projection import Projection
from services.notifications.domain import RuleSettings
from services.notifications.projections import rules_more
from services.notifications.rules import EVENT_RULES, OrgFacts, notifications_for

STALE_AFTER = timedelta(days=30)  # events older than this when first folded (a new deployment's history) notify nobody
FACT_EVENTS = {"OrganizationEstablished", "OrganizationRenamed", "OrganizationTransferred", "OrganizationDissolved",
               "OrganizationRestored", "CommitteeElected", "ElectionPostponed", "OrganizationFlaggedWeak",
               "RectificationPlanned", "RectificationExtended", "BranchRectified", "OrganizationClassified",
               "NotificationRulesAdopted", *rules_more.MORE_EVENTS}

outbox_metadata = MetaData()
outbox = Table("notification_outbox", outbox_metadata,
               Column("county", String(6), primary_key=True), Column("notification_id", String(40), primary_key=True),
               Column("payload", Text, nullable=False), Column("causation_id", String(40)),
               Column("decided_at", DateTime(timezone=True), nullable=False))


class RulesStateProjection(Projection):
    name = "notifications.rules"
    schema_version = 2  # v2: members, development, mobile, stars, unit states, rule tables, targets
    subjects = ("org.organization.>", "org.rectification.>", "org.classification.>", "org.enterprise.>",
                "org.member.>", "org.applicant.>", "org.mobile.>", "org.rules.>", "ratings.scheme.>",
                "ratings.points.>", "notifications.settings.>")
    handles = frozenset(FACT_EVENTS | set(EVENT_RULES))

    def define_tables(self) -> None:
        t = self.table
        self.orgs = t("nr_organization", Column("county", String(6), primary_key=True),
                      Column("organization_id", String(64), primary_key=True), Column("name", String(120)),
                      Column("township_id", String(64)), Column("dissolved", Integer, nullable=False, default=0),
                      Column("term_ends_on", Date), Column("election_due_on", Date),
                      Column("organization_type", String(20)), Column("approved_on", Date))
        self.cases = t("nr_case", Column("county", String(6), primary_key=True),
                       Column("case_id", String(140), primary_key=True), Column("organization_id", String(64)),
                       Column("due_on", Date), Column("open", Integer, nullable=False, default=1))
        self.grades = t("nr_grade", Column("county", String(6), primary_key=True),
                        Column("organization_id", String(64), primary_key=True), Column("year", Integer, primary_key=True),
                        Column("grade", String(12), nullable=False))
        self.units = t("nr_unit", Column("county", String(6), primary_key=True),
                       Column("enterprise_id", String(64), primary_key=True), Column("name", String(120)),
                       Column("township_id", String(64)), Column("full_members", Integer, nullable=False, default=0),
                       Column("operating", Integer, nullable=False, default=1),
                       Column("organized", Integer, nullable=False, default=0), Column("qualified_since", Date))
        self.settings = t("nr_settings", Column("county", String(6), primary_key=True),
                          Column("effective_from", Date, primary_key=True), Column("body", Text, nullable=False))
        self.more = rules_more.define(t)

    def create_tables(self, engine: Engine) -> None:
        super().create_tables(engine)
        outbox_metadata.create_all(engine)

    def apply(self, conn: Connection, county: str, events: Sequence[StoredEvent]) -> None:
        facts = ConnFacts(self, conn, county)
        more = rules_more.MoreFacts(self.more, conn, county, facts)
        decided, now = [], datetime.now(UTC)
        for ev in events:
            decide = not self.suffix and now - ev.recorded_at < STALE_AFTER
            drafts = []
            if ev.type in EVENT_RULES and decide:
                drafts = notifications_for(county, ev.type, ev.event, ev.envelope["event_id"], facts,
                                           facts.rule_settings())
            if ev.type in rules_more.MORE_EVENTS:  # star and coverage rules compare before and after the event
                drafts = more.fold(ev.type, ev.event, ev.envelope["event_id"], ev.recorded_at.date(), decide)
                drafts = [d for d in drafts if facts.rule_settings().enabled(d.kind, d.occurred_on)]
            else:
                facts.fold(ev)
            decided += [{"county": county, "notification_id": d.notification_id,
                         "payload": orjson.dumps(d.payload()).decode(), "causation_id": ev.envelope["event_id"],
                         "decided_at": now} for d in drafts]
        facts.flush()
        upsert(conn, outbox, decided, ("county", "notification_id"))


class ConnFacts:
    """The rules' view of the past (rules.Facts): rows read once per batch, changes kept until flush."""

    def __init__(self, projection: RulesStateProjection, conn: Connection, county: str):
        self.p, self.conn, self.county = projection, conn, county
        self.orgs: dict[str, dict] = {}
        self.cases: dict[str, dict] = {}
        self.grades: dict[tuple[str, int], str] = {}
        self.units: dict[str, dict] = {}
        self._settings: RuleSettings | None = None
        self.new_settings: list[dict] = []

    def _org(self, org_id: str) -> dict:
        if org_id not in self.orgs:
            t = self.p.orgs
            row = self.conn.execute(select(t).where(t.c.county == self.county, t.c.organization_id == org_id)).first()
            self.orgs[org_id] = dict(row._mapping) if row else {"county": self.county, "organization_id": org_id,
                                                                 "dissolved": 0}
        return self.orgs[org_id]

    def organization(self, organization_id: str) -> OrgFacts:
        row = self._org(organization_id)
        return OrgFacts(row.get("name"), row.get("township_id"))

    def _unit(self, unit_id: str) -> dict:
        if unit_id not in self.units:
            t = self.p.units
            row = self.conn.execute(select(t).where(t.c.county == self.county, t.c.enterprise_id == unit_id)).first()
            self.units[unit_id] = dict(row._mapping) if row else {"county": self.county, "enterprise_id": unit_id,
                                                                  "full_members": 0, "operating": 1, "organized": 0}
        return self.units[unit_id]

    def unit_state(self, state, on, qualifies: bool) -> None:
        """Whether and since when a unit qualifies for its own organization (the county's rule table in force
        on the date of the change: 符合组建条件) and has none."""
        unit = self._unit(state.enterprise_id)
        unit.update(name=state.name, township_id=state.township_id, full_members=state.full_members,
                    operating=int(state.status == "operating"), organized=int(state.organization_id is not None))
        if not qualifies:
            unit["qualified_since"] = None
        elif unit.get("qualified_since") is None:
            unit["qualified_since"] = on

    def case_organization(self, case_id: str) -> str | None:
        return self._case(case_id).get("organization_id")

    def _case(self, case_id: str) -> dict:
        if case_id not in self.cases:
            t = self.p.cases
            row = self.conn.execute(select(t).where(t.c.county == self.county, t.c.case_id == case_id)).first()
            self.cases[case_id] = dict(row._mapping) if row else {"county": self.county, "case_id": case_id, "open": 1}
        return self.cases[case_id]

    def previous_grade(self, organization_id: str, year: int) -> str | None:
        if (organization_id, year - 1) in self.grades:
            return self.grades[(organization_id, year - 1)]
        t = self.p.grades
        return self.conn.execute(select(t.c.grade).where(t.c.county == self.county, t.c.organization_id == organization_id,
                                                         t.c.year == year - 1)).scalar()

    def rule_settings(self) -> RuleSettings:
        if self._settings is None:
            t = self.p.settings
            rows = self.conn.execute(select(t.c.body).where(t.c.county == self.county)).scalars()
            self._settings = RuleSettings([NotificationRulesAdopted.model_validate_json(b) for b in rows])
        return self._settings

    def fold(self, ev: StoredEvent) -> None:
        e, t = ev.event, ev.type
        if t == "NotificationRulesAdopted":
            self.rule_settings().versions.append(e)
            self.new_settings.append({"county": self.county, "effective_from": e.effective_from,
                                      "body": e.model_dump_json()})
        elif t == "OrganizationEstablished":
            self._org(e.organization_id).update(name=e.name, township_id=e.township_id, dissolved=0,
                                                organization_type=e.organization_type, approved_on=e.approved_on)
        elif t == "OrganizationRenamed":
            self._org(e.organization_id)["name"] = e.new_name
        elif t == "OrganizationTransferred":
            self._org(e.organization_id)["township_id"] = e.to_township_id
        elif t in ("OrganizationDissolved", "OrganizationMerged"):
            self._org(e.organization_id)["dissolved"] = 1
        elif t == "OrganizationRestored":
            self._org(e.organization_id)["dissolved"] = 0
        elif t == "CommitteeElected":
            self._org(e.organization_id).update(term_ends_on=e.term_ends_on, election_due_on=None)
        elif t == "ElectionPostponed":
            self._org(e.organization_id)["election_due_on"] = e.new_due_on
        elif t == "OrganizationFlaggedWeak":
            self._case(e.case_id).update(organization_id=e.organization_id, open=1)
        elif t == "RectificationPlanned":
            self._case(e.case_id)["due_on"] = e.due_on
        elif t == "RectificationExtended":
            self._case(e.case_id)["due_on"] = e.new_due_on
        elif t == "BranchRectified":
            self._case(e.case_id).update(organization_id=e.organization_id, open=0)
        elif t == "OrganizationClassified":
            self.grades[(e.organization_id, e.year)] = e.grade

    def flush(self) -> None:
        p = self.p
        upsert(self.conn, p.orgs, [self._full(r, p.orgs) for r in self.orgs.values()], ("county", "organization_id"))
        upsert(self.conn, p.cases, [self._full(r, p.cases) for r in self.cases.values()], ("county", "case_id"))
        upsert(self.conn, p.grades, [{"county": self.county, "organization_id": o, "year": y, "grade": g}
                                     for (o, y), g in self.grades.items()], ("county", "organization_id", "year"))
        upsert(self.conn, p.units, [self._full(r, p.units) for r in self.units.values()], ("county", "enterprise_id"))
        upsert(self.conn, p.settings, self.new_settings, ("county", "effective_from"))

    @staticmethod
    def _full(row: dict, table) -> dict:
        defaults = {"dissolved": 0, "open": 1, "full_members": 0, "operating": 1, "organized": 0}
        return {c.name: row.get(c.name, defaults.get(c.name)) for c in table.columns}
