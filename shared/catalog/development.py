"""Events of member development (发展党员), one aggregate per applicant (`org.applicant.<id>`): each step
with its date and who decided it. A probationary member registered without a pipeline (an import of
the national system's data) has its probation outcome recorded on an applicant subject of the same id.
The member's registry entry follows through the registry's own events (shared/catalog/membership.py),
appended in the same atomic batch."""
from __future__ import annotations

from datetime import date

from pydantic import Field

from shared.catalog.base import DomainEvent
from shared.catalog.organizations import Gender


class ApplicationReceived(DomainEvent, context="org", aggregate="applicant"):
    """入党申请 received by the branch."""

    applicant_id: str
    name: str
    gender: Gender
    birth_date: date
    branch_id: str
    applied_on: date
    received_by: str = Field(description="谁接收/谈话 / who received the application")


class ActivistDesignated(DomainEvent, context="org", aggregate="applicant"):
    """确定为入党积极分子, with the members responsible for training (培养联系人)."""

    applicant_id: str
    designated_on: date
    decided_by: str
    training_contacts: tuple[str, ...]


class CandidateDesignated(DomainEvent, context="org", aggregate="applicant"):
    """确定为发展对象 (after the minimum time as an activist); `branch_id` is where it happened."""

    applicant_id: str
    branch_id: str
    designated_on: date
    decided_by: str


class ProbationaryAdmitted(DomainEvent, context="org", aggregate="applicant"):
    """接收为预备党员: branch meeting vote, then the upper organization's approval. Probation runs from
    the branch meeting to `probation_ends_on` (the rule table's probation length on that day)."""

    applicant_id: str
    branch_id: str
    branch_meeting_on: date
    approved_by: str
    approved_on: date
    probation_ends_on: date


class ProbationExtended(DomainEvent, context="org", aggregate="applicant"):
    """延长预备期 (once, by 6–12 months per the rule table)."""

    applicant_id: str
    months: int
    reason: str
    branch_meeting_on: date
    approved_by: str
    approved_on: date
    probation_ends_on: date = Field(description="the new end of probation")


class MembershipConfirmed(DomainEvent, context="org", aggregate="applicant"):
    """转正: branch meeting and upper approval; full membership counts from the end of probation."""

    applicant_id: str
    branch_meeting_on: date
    approved_by: str
    approved_on: date
    full_from: date


class ProbationCancelled(DomainEvent, context="org", aggregate="applicant"):
    """取消预备党员资格, with a reason."""

    applicant_id: str
    reason: str
    branch_meeting_on: date
    approved_by: str
    approved_on: date


class DevelopmentDiscontinued(DomainEvent, context="org", aggregate="applicant"):
    """An applicant, activist or development candidate leaves the pipeline (取消积极分子/发展对象资格,
    申请人撤回), with a reason."""

    applicant_id: str
    reason: str
    decided_by: str
    decided_on: date
