"""The shape of a county's rule table (规则表) and the event that adopts one. Every threshold, list
and term that varies by place or year is data with an effective date, not a constant in code; the
national baseline lives in services/organizations/rules/baseline.py.

Severity: "must" rules refuse a command; "generally" rules (一般) let it through with a warning
that is recorded and shown to the user.
"""
from __future__ import annotations

from datetime import date
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.catalog.base import DomainEvent
from shared.errors import DomainError

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


class QualifyingRule(_Data):
    """符合组建条件: which units must have their own or a joint Party organization — the units the
    organization_coverage and social_organization_coverage targets count (and, unorganized, the
    instructor target too). A unit qualifies when it operates and meets any criterion set; practice
    varies (3 or more full members, or 30 or more employees), so the county chooses. With no
    criterion set every in-scope unit qualifies: what every table adopted before version 2 meant."""

    min_full_members: int | None = Field(None, ge=1, le=1000, description="正式党员达到此数 / at least this many "
                                                                         "full members, e.g. 3")
    min_employees: int | None = Field(None, ge=1, le=1_000_000, description="或从业人员达到此数 / or at least this "
                                                                            "many employees, e.g. 30")

    @property
    def every_in_scope_unit(self) -> bool:
        return self.min_full_members is None and self.min_employees is None


TargetKind = Literal[
    "organization_coverage",         # every qualifying enterprise has an own or joint organization
    "social_organization_coverage",  # every qualifying social organization organized
    "instructor_for_unorganized",    # every unorganized unit, in scope or qualifying, has an instructor/liaison
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


class DevelopmentRules(_Data):
    """发展党员 and probation (党章, 《中国共产党发展党员工作细则》): minimum durations and steps."""

    min_applicant_age: int = Field(18, ge=14, le=30, description="申请入党最低年龄 / youngest age to apply")
    training_contacts: int = Field(2, ge=1, le=3, description="培养联系人人数 / members who train an activist")
    activist_min_months: int = Field(12, ge=0, le=60, description="积极分子培养至少（月） / months as an activist "
                                                                 "before becoming a development candidate")
    probation_months: int = Field(12, ge=1, le=36, description="预备期（月） / probation, months")
    extension_min_months: int = Field(6, ge=1, le=24, description="延长预备期至少（月） / shortest extension")
    extension_max_months: int = Field(12, ge=1, le=24, description="延长预备期至多（月） / longest extension")
    max_extensions: int = Field(1, ge=0, le=3, description="可延长次数 / how often probation may be extended")
    probation_due_days: int = Field(30, ge=1, le=180, description="预备期即将届满提醒（天） / days ahead to list")
    no_candidate_years: int = Field(2, ge=1, le=10, description="连续多少年未确定发展对象列入排查 / years "
                                                              "without a development candidate to screen a branch")
    screening_weak_reason: str = Field("no_candidates_2_years", pattern=r"^[a-z][a-z0-9_]{0,39}$",
                                       description="对应的软弱涣散情形编码 / the weak reason this screening supports")

    @model_validator(mode="after")
    def _extension_range(self) -> "DevelopmentRules":
        if self.extension_min_months > self.extension_max_months:
            raise ValueError("extension_min_months exceeds extension_max_months / 延长预备期下限大于上限")
        return self


class MobileRules(_Data):
    """流动党员: a member away this many months without transferring is registered as mobile."""

    min_months_away: int = Field(6, ge=1, le=24, description="外出多少个月为流动党员 / months away")


class RuleTable(_Data):
    effective_from: date = Field(date(2000, 1, 1), description="生效日期 / in force from this date")
    setting: tuple[SettingRule, ...] = Field(description="组织设置规则 / organization-setting rules")
    terms: tuple[TermRule, ...] = Field(description="任期规则 / term lengths")
    weak_reasons: tuple[WeakReason, ...] = Field(description="软弱涣散情形清单 / the list of weak/lax situations")
    coverage: CoverageScope = Field(CoverageScope(), description="纳入统计范围的两新组织 / which units are in scope for coverage")
    qualifying: QualifyingRule = Field(QualifyingRule(), description="符合组建条件 / which units must have a Party organization")
    targets: tuple[CoverageTarget, ...] = Field((), description="目标任务，如 4个100% / the county's targets")
    max_election_delay_months: int = Field(12, description="换届延期上限（月） / longest approved election delay, months")
    follow_up_months: int = Field(12, description="销号后跟踪期（月） / follow-up after delisting, months")
    development: DevelopmentRules = Field(DevelopmentRules(), description="发展党员与预备期 / member development "
                                                                          "and probation")
    mobile: MobileRules = Field(MobileRules(), description="流动党员 / mobile members")

    def setting_rule(self, code: str) -> SettingRule:
        """A rule every adopted table has (checked on adoption); a table stored before that check that
        lacks it refuses the command that needs it (409) instead of failing inside it."""
        found = next((r for r in self.setting if r.code == code), None)
        if found is None:
            raise DomainError("rule_missing", f"规则表缺少组织设置规则 {code}，请补充后重新采用 / the rule table in force "
                                              f"lacks the setting rule {code}: adopt a complete table", 409)
        return found

    def term_years(self, organization_type: str, host_unit_type: str) -> int:
        for rule in self.terms:
            if organization_type in rule.organization_types and (
                    not rule.host_unit_types or host_unit_type in rule.host_unit_types):
                return rule.years
        return 3

    def weak_reason(self, code: str) -> WeakReason | None:
        return next((r for r in self.weak_reasons if r.code == code), None)


class RulesAdopted(DomainEvent, context="org", aggregate="rules"):
    """A county adopts a rule table from its effective date (earlier versions stay for as-of queries).

    v2 (issue 8): the table names its qualifying units (符合组建条件). A v1 table had none: its coverage
    targets counted every in-scope unit, so it is read with a qualifying rule that says exactly that.
    v3 (issue 12): the table has development rules (发展党员); a v1/v2 table is read with the national
    baseline written out, so its meaning does not follow later changes of the model's defaults.
    v4 (issue 12): mobile members (months away); older tables are read with the baseline's 6 months."""

    schema_version: ClassVar[int] = 4
    table: RuleTable

    @staticmethod
    def upcast_v1_v2(data: dict[str, Any]) -> dict[str, Any]:
        return {**data, "table": {**data["table"], "qualifying": {"min_full_members": None, "min_employees": None}}}

    @staticmethod
    def upcast_v2_v3(data: dict[str, Any]) -> dict[str, Any]:
        return {**data, "table": {**data["table"], "development": dict(DEVELOPMENT_BEFORE_V3)}}

    @staticmethod
    def upcast_v3_v4(data: dict[str, Any]) -> dict[str, Any]:
        return {**data, "table": {**data["table"], "mobile": {"min_months_away": 6}}}


DEVELOPMENT_BEFORE_V3 = {  # the national baseline as it stood when v3 was introduced
    "min_applicant_age": 18, "training_contacts": 2, "activist_min_months": 12, "probation_months": 12,
    "extension_min_months": 6, "extension_max_months": 12, "max_extensions": 1, "probation_due_days": 30,
    "no_candidate_years": 2, "screening_weak_reason": "no_candidates_2_years"}
