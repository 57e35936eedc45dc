"""An organization's status as of a business date as known at a recorded time (pure): its lifecycle
(name, type, township, active/merged/dissolved, committee term), its classification (分类定级) and its
rectification cases (整顿), folded by the aggregates' own `apply` from the events that were effective by D
and recorded by T, with the provenance of each (docs/decisions/016-audit-log.md).

An event's business date is the first date its payload names, in this order (approved, elected,
decided, accepted …, transferred, effective), else the day it was recorded: the dates the commands
ask the user for (deadlines such as due_on are not business dates)."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from services.organizations.campaigns.domain import Classification
from services.organizations.campaigns.rectification import RectificationCase
from services.organizations.registry.domain import Organization
from shared.envelope import StoredEvent

DATE_FIELDS = ("approved_on", "elected_on", "decided_on", "accepted_on", "classified_on", "reported_on",
               "assigned_on", "replaced_on", "from_on", "transferred_on", "effective_on")


def business_date(ev: StoredEvent) -> date:
    for name in DATE_FIELDS:
        value = getattr(ev.event, name, None)
        if isinstance(value, date):
            return value
    return ev.recorded_at.date()


def _provenance(ev: StoredEvent, counted: bool) -> dict[str, Any]:
    return {"seq": ev.seq, "type": ev.type, "business_date": business_date(ev).isoformat(),
            "recorded_at": ev.envelope["recorded_at"], "recorded_by": ev.actor, "counted": counted}


def fold(aggregate, events: Iterable[StoredEvent], as_of: date, known_at: datetime) -> list[dict[str, Any]]:
    """Apply the events effective by as_of and recorded by known_at; the provenance of every event seen
    (those left out too: `counted` false, e.g. a back-dated decision entered after known_at)."""
    seen = []
    for ev in events:
        if ev.event is None:
            continue
        counted = ev.recorded_at <= known_at and business_date(ev) <= as_of
        if counted:
            aggregate.apply(ev.event)
        if ev.recorded_at <= known_at:
            seen.append(_provenance(ev, counted))
    return seen


def lifecycle(org: Organization) -> dict[str, Any] | None:
    if not org.exists:
        return None
    return {"name": org.name, "organization_type": org.organization_type, "township_id": org.township_id,
            "parent_id": org.parent_id, "status": org.status, "merged_into": org.merged_into,
            "elected_on": _d(org.elected_on), "term_ends_on": _d(org.term_ends_on),
            "election_due_on": _d(org.election_due_on)}


def classifications(c: Classification) -> list[dict[str, Any]]:
    return [{"year": year, "grade": grade, "movement": movement} for year, grade, movement in c.history()]


def case(c: RectificationCase) -> dict[str, Any]:
    return {"case_id": c.id, "campaign": c.campaign, "status": c.status, "reasons": list(c.reasons),
            "decided_on": _d(c.decided_on), "due_on": _d(c.due_on), "accepted_on": _d(c.accepted_on),
            "liaison_leader": c.liaison_leader, "first_secretaries": len(c.first_secretaries)}


def _d(value: date | None) -> str | None:
    return value.isoformat() if value else None


def new_states(organization_id: str) -> tuple[Organization, Classification]:
    return Organization(organization_id), Classification(organization_id)


def new_case(case_id: str) -> RectificationCase:
    return RectificationCase(case_id)
