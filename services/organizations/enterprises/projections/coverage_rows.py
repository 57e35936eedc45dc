"""The rows of organizations.coverage and back: pure functions the live fold (coverage.py), its
rebuild fold (coverage_rebuild.py) and the queries share, so all see the same unit states."""
from __future__ import annotations

from services.organizations.enterprises.domain import EnterpriseState


def row_from_state(county: str, s: EnterpriseState) -> dict:
    return {"county": county, "enterprise_id": s.enterprise_id, "uscc": s.uscc, "name": s.name,
            "unit_type": s.unit_type, "township_id": s.township_id, "industry": s.industry,
            "employees": s.employees, "full_members": s.full_members, "probationary_members": s.probationary_members,
            "status": s.status, "fixed_premises": s.fixed_premises, "above_scale": s.above_scale,
            "registered_on": s.registered_on, "organization_id": s.organization_id, "founding_mode": s.founding_mode,
            "instructor_name": s.instructor[0] if s.instructor else None,
            "instructor_role": s.instructor[1] if s.instructor else None,
            "mass_organizations": ",".join(sorted(s.mass_organizations))}


def state_from_row(r) -> EnterpriseState:
    return EnterpriseState(
        r.enterprise_id, r.uscc, r.name, r.unit_type, r.township_id, r.industry, r.employees, r.full_members,
        r.probationary_members, r.status, r.fixed_premises, r.above_scale, r.registered_on, r.organization_id,
        r.founding_mode, (r.instructor_name, r.instructor_role) if r.instructor_name else None,
        frozenset(filter(None, r.mass_organizations.split(","))))
