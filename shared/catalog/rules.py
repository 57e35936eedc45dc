"""The shape of a county's rule table (规则表) and the event that adopts one. Every threshold, list
and term that varies by place or year is data with an effective date, not a constant in code; the
national baseline lives in services/organizations/rules.py.

Severity: "must" rules refuse a command; "generally" rules (一般) let it through with a warning
that is recorded and shown to the user.
"""
from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.catalog.base import DomainEvent

Severity = Literal["must", "generally"]


class _Data(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SettingRule(_Data):
    """One organization-setting threshold (组织设置)."""

    code: str
    threshold: int
    severity: Severity
    description: str


class TermRule(_Data):
    """Term length (任期) by organization type and host unit type; first match wins."""

    organization_types: tuple[str, ...]
    host_unit_types: tuple[str, ...] = ()  # empty = any host unit
    years: int = Field(ge=1, le=10)


class WeakReason(_Data):
    """One situation of 软弱涣散 from the configurable list."""

    code: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    name: str
    local: bool = Field(False, description="a local addition rather than the commonly published list")


class CoverageScope(_Data):
    """Which 两新组织 are in scope of coverage figures."""

    enterprise_min_employees: int = 10
    social_organization_min_staff: int = 30
    require_fixed_premises: bool = True
    qualify_own_branch_min_full_members: int = 3


TargetKind = Literal[
    "organization_coverage",         # all in-scope units have an own or joint organization
    "social_organization_coverage",  # all in-scope social organizations organized
    "instructor_for_unorganized",    # every unorganized in-scope unit has an instructor/liaison
    "mass_organizations_for_organized",  # every organized unit has 工会, 共青团 and 妇联
    "organized_above_employees",     # every operating enterprise with ≥ threshold employees organized
]


class CoverageTarget(_Data):
    """A campaign target a county configures (e.g. the 百日攻坚 "4个100%")."""

    code: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    name: str
    kind: TargetKind
    rate: float = Field(1.0, gt=0, le=1)
    threshold: int | None = Field(None, description="employees threshold for organized_above_employees")


class RuleTable(_Data):
    effective_from: date = date(2000, 1, 1)
    setting: tuple[SettingRule, ...]
    terms: tuple[TermRule, ...]
    weak_reasons: tuple[WeakReason, ...]
    coverage: CoverageScope = CoverageScope()
    targets: tuple[CoverageTarget, ...] = ()
    max_election_delay_months: int = 12
    follow_up_months: int = 12

    def setting_rule(self, code: str) -> SettingRule:
        return next(r for r in self.setting if r.code == code)

    def term_years(self, organization_type: str, host_unit_type: str) -> int:
        for rule in self.terms:
            if organization_type in rule.organization_types and (
                    not rule.host_unit_types or host_unit_type in rule.host_unit_types):
                return rule.years
        return 3

    def weak_reason(self, code: str) -> WeakReason | None:
        return next((r for r in self.weak_reasons if r.code == code), None)


class RulesAdopted(DomainEvent, context="org", aggregate="rules"):
    """A county adopts a rule table from its effective date (earlier versions stay for as-of queries)."""

    table: RuleTable
