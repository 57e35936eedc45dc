"""The rules context's command: adopt a rule table and its reply. The command has the catalog's
RuleTable shape (the stored event and the command never drift apart) with bounds on every number a
county may type: a threshold of 10^20 is refused with a field-level 422 before it could reach the log
(the event model itself stays as it was, so no stored table changes meaning)."""
from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from shared.catalog.rules import CoverageScope, CoverageTarget, RuleTable, SettingRule

PEOPLE = 1_000_000  # no unit, branch or threshold of people is larger


class SettingRuleInput(SettingRule):
    threshold: int = Field(ge=0, le=PEOPLE, description="阈值（人数、单位数） / threshold (people, units)")


class CoverageScopeInput(CoverageScope):
    enterprise_min_employees: int = Field(10, ge=0, le=PEOPLE, description="企业从业人员下限 / enterprises from this size")
    social_organization_min_staff: int = Field(30, ge=0, le=PEOPLE, description="社会组织人员下限 / social orgs from this size")
    qualify_own_branch_min_full_members: int = Field(3, ge=1, le=PEOPLE, description="单独组建所需正式党员 / full "
                                                                                     "members for an own branch")


class CoverageTargetInput(CoverageTarget):
    threshold: int | None = Field(None, ge=1, le=PEOPLE, description="employees threshold for organized_above_employees")


class AdoptRules(RuleTable):
    """采用规则表: the whole table, effective from its date."""

    effective_from: date = Field(date(2000, 1, 1), ge=date(1921, 7, 1), le=date(2100, 12, 31),
                                 description="生效日期 / in force from this date")
    setting: tuple[SettingRuleInput, ...] = Field(description="组织设置规则 / organization-setting rules")
    coverage: CoverageScopeInput = Field(CoverageScopeInput(), description="纳入统计范围的两新组织 / which units are "
                                                                         "in scope for coverage")
    targets: tuple[CoverageTargetInput, ...] = Field((), description="目标任务，如 4个100% / the county's targets")
    max_election_delay_months: int = Field(12, ge=0, le=60, description="换届延期上限（月） / longest approved "
                                                                        "election delay, months")
    follow_up_months: int = Field(12, ge=0, le=120, description="销号后跟踪期（月） / follow-up after delisting, months")

    def table(self) -> RuleTable:
        """The table as the event stores it."""
        return RuleTable.model_validate(self.model_dump())


class RulesEffective(BaseModel):
    effective_from: date = Field(description="生效日期 / the table applies from this date")
