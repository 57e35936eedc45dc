"""Registry events of a member's standing (党籍), beside MemberRegistered/MemberTransferred: the
full/probationary flag after 转正, and 党籍异动 (deceased, left, expelled, suspended, restored,
probation cancelled). Committee and branch-size rules count only members in good standing."""
from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from shared.catalog.base import DomainEvent
from shared.catalog.organizations import MembershipStatus

# active: counted; the others are not. "restored" is not a standing: a restore sets "active" again.
Standing = Literal["active", "deceased", "left", "expelled", "suspended", "cancelled"]


class MembershipStatusChanged(DomainEvent, context="org", aggregate="member"):
    """The member's full/probationary flag changed (转正: probationary → full)."""

    member_id: str
    membership_status: MembershipStatus
    changed_on: date
    reason: str


class MemberStandingChanged(DomainEvent, context="org", aggregate="member"):
    """党籍异动: the member's standing changed, with the reason and who decided."""

    member_id: str
    standing: Standing
    previous: Standing
    changed_on: date
    reason: str
    decided_by: str
    branch_id: str | None = Field(None, description="the member's branch when it happened")
