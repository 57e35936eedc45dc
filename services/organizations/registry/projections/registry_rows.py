"""The rows of organizations.registry, made from events: pure functions the live fold (registry.py)
and the rebuild fold (registry_rebuild.py) share, so both write the same rows."""
from __future__ import annotations

from shared.catalog import lifecycle as lc
from shared.catalog.membership import MemberStandingChanged
from shared.catalog.organizations import MemberTransferred
from shared.envelope import StoredEvent

MEMBER_COLUMNS = ("county", "member_id", "name", "gender", "birth_date", "membership_status", "joined_on",
                  "branch_id", "import_id", "seq")

LIFECYCLE = frozenset({"OrganizationRenamed", "OrganizationUpgraded", "OrganizationTransferred", "OrganizationMerged",
                       "OrganizationDissolved", "OrganizationRestored", "CommitteeElected", "ElectionPostponed"})


def lifecycle_changes(e) -> dict:
    """The columns of org_organization a lifecycle event changes."""
    if isinstance(e, lc.OrganizationRenamed):
        return {"name": e.new_name}
    if isinstance(e, lc.OrganizationUpgraded):
        return {"organization_type": e.to_type}
    if isinstance(e, lc.OrganizationTransferred):
        return {"parent_id": e.to_parent_id, "township_id": e.to_township_id}
    if isinstance(e, lc.OrganizationMerged):
        return {"status": "merged", "merged_into": e.into_organization_id}
    if isinstance(e, lc.OrganizationDissolved):
        return {"status": "dissolved"}
    if isinstance(e, lc.OrganizationRestored):
        return {"status": "active"}
    if isinstance(e, lc.CommitteeElected):
        secretary = next((s.name for s in e.committee if s.role == "secretary"), None)
        return {"secretary": secretary, "elected_on": e.elected_on, "term_ends_on": e.term_ends_on,
                "election_due_on": e.term_ends_on, "secretary_only": e.secretary_only}
    if isinstance(e, lc.ElectionPostponed):
        return {"election_due_on": e.new_due_on}
    return {}


def organization_row(county: str, ev: StoredEvent) -> dict:
    """The org_organization row an OrganizationEstablished starts (or restarts) from."""
    e = ev.event
    return {"county": county, "seq": ev.seq, **e.model_dump(exclude={"organization_id"}),
            "organization_id": e.organization_id, "status": "active"}


def member_values(county: str, ev: StoredEvent) -> list:
    """The org_member row of a MemberRegistered, in MEMBER_COLUMNS order."""
    e = ev.event
    return [county, e.member_id, e.name, e.gender, e.birth_date, e.membership_status, e.joined_on, e.branch_id,
            e.import_id, ev.seq]


def member_change(e) -> dict:
    """The org_member columns a transfer or a change of the full/probationary flag (转正) changes."""
    if isinstance(e, MemberTransferred):
        return {"branch_id": e.to_branch_id}
    return {"membership_status": e.membership_status}


def standing_row(county: str, e: MemberStandingChanged) -> dict:
    """The org_member_standing row of a 党籍异动 (a restore writes "active" back)."""
    return {"county": county, "member_id": e.member_id, "standing": e.standing, "reason": e.reason,
            "changed_on": e.changed_on, "decided_by": e.decided_by}
