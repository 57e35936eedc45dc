"""Where an organization stood as of a business date D, as known at a recorded time T (pure): the township
it was founded in or transferred to (整建制转移) by D, and the organization it had merged into by D.

The as-of answers place a member by the branch of its scores and an organization by these events, not
by today's directory: a branch that moved from one township to another in 2026 counts in its old
township for 2025, and the members of a branch merged into another count in the absorbing branch from
the merge's approval on (docs/decisions/016-audit-log.md). Events take effect on their approval date;
where an organization was founded holds for every date before its first move.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from services.ratings.asof import Knowledge
from shared.catalog.lifecycle import OrganizationMerged, OrganizationTransferred
from shared.catalog.organizations import OrganizationEstablished
from shared.envelope import StoredEvent

MAX_MERGES = 20  # a chain of merges is followed this far (a cycle in a damaged log ends here)


@dataclass
class Places:
    """organization id → [(effective date, seq, value)] of its townships and of what it merged into."""

    townships: dict[str, list[tuple[date, int, str | None]]] = field(default_factory=dict)
    merges: dict[str, list[tuple[date, int, str]]] = field(default_factory=dict)

    def feed(self, events: Iterable[StoredEvent], k: Knowledge) -> "Places":
        for ev in events:
            e = ev.event
            if not k.known(ev):
                continue
            if isinstance(e, OrganizationEstablished):
                self.townships.setdefault(e.organization_id, []).append((date.min, ev.seq, e.township_id))
            elif isinstance(e, OrganizationTransferred):
                self.townships.setdefault(e.organization_id, []).append((e.approved_on, ev.seq, e.to_township_id))
            elif isinstance(e, OrganizationMerged):
                self.merges.setdefault(e.organization_id, []).append((e.approved_on, ev.seq, e.into_organization_id))
        return self

    @staticmethod
    def _as_of(history: list[tuple[date, int, str | None]] | None, as_of: date) -> tuple[bool, str | None]:
        effective = [h for h in history or () if h[0] <= as_of]
        return (True, max(effective)[2]) if effective else (False, None)

    def organization(self, organization_id: str | None, as_of: date) -> str | None:
        """The organization that `organization_id`'s members belonged to on D (itself, unless merged by then)."""
        for _ in range(MAX_MERGES):
            merged, into = self._as_of(self.merges.get(organization_id or ""), as_of)
            if not merged or into == organization_id:
                break
            organization_id = into
        return organization_id

    def township(self, organization_id: str | None, as_of: date) -> str | None:
        return self._as_of(self.townships.get(organization_id or ""), as_of)[1]

    def organizations(self) -> set[str]:
        return set(self.townships) | set(self.merges)
