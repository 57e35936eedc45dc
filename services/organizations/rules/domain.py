"""The county's rule book: the versions of its rule table, each effective from a date. A table is
checked as a whole before it is adopted: every rule the commands ask for must be in it."""
from __future__ import annotations

from datetime import date

from shared.aggregate import Aggregate
from shared.catalog.base import DomainEvent
from shared.catalog.rules import RuleTable, RulesAdopted
from shared.errors import invalid
from services.organizations.rules.baseline import NATIONAL_BASELINE, table_in_force

REQUIRED_SETTING_RULES = tuple(r.code for r in NATIONAL_BASELINE.setting)


class RuleBook(Aggregate):
    context, aggregate_type = "org", "rules"

    def __init__(self, aggregate_id: str):
        super().__init__(aggregate_id)
        self.versions: list[RuleTable] = []

    def apply(self, event: DomainEvent) -> None:
        if isinstance(event, RulesAdopted):
            self.mark_exists()
            self.versions = [v for v in self.versions if v.effective_from != event.table.effective_from]
            self.versions.append(event.table)

    def in_force(self, on: date) -> RuleTable:
        return table_in_force(self.versions, on)

    def adopt(self, table: RuleTable) -> list[DomainEvent]:
        check_weak_reasons(table)
        check_setting_rules_complete(table)
        check_screening_reason_listed(table)
        return [RulesAdopted(table=table)]


def check_weak_reasons(table: RuleTable) -> None:
    codes = [r.code for r in table.weak_reasons]
    if len(set(codes)) != len(codes):
        raise invalid("duplicate_weak_reason", "weak_reasons", "软弱涣散情形代码重复 / weak reason codes repeat")
    if not table.weak_reasons:
        raise invalid("weak_reasons_required", "weak_reasons", "至少需要一种软弱涣散情形 / at least one weak reason")


def check_setting_rules_complete(table: RuleTable) -> None:
    """Every setting rule a command looks up is there, once (a table without one would fail later,
    on the first founding or election that needs it)."""
    codes = [r.code for r in table.setting]
    missing = [c for c in REQUIRED_SETTING_RULES if c not in codes]
    if missing:
        raise invalid("setting_rules_missing", "setting", f"规则表缺少组织设置规则 {missing} / the table lacks the "
                                                          f"setting rules {missing}")
    repeated = sorted({c for c in codes if codes.count(c) > 1})
    if repeated:
        raise invalid("duplicate_setting_rule", "setting", f"组织设置规则重复 {repeated} / setting rules repeat: "
                                                           f"{repeated}")


def check_screening_reason_listed(table: RuleTable) -> None:
    """The weak reason the development screening supports (no candidates for years) is one the
    rectification workflow can flag with."""
    code = table.development.screening_weak_reason
    if table.weak_reason(code) is None:
        raise invalid("screening_reason_not_listed", "development.screening_weak_reason",
                      f"软弱涣散情形清单中没有 {code} / the weak reason {code} is not in weak_reasons")
