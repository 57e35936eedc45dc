"""The county's rule book: the versions of its rule table, each effective from a date."""
from __future__ import annotations

from datetime import date

from shared.aggregate import Aggregate
from shared.catalog.base import DomainEvent
from shared.catalog.rules import RuleTable, RulesAdopted
from shared.errors import invalid
from services.organizations.rules import rules_in_force


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
        return rules_in_force(self.versions, on)

    def adopt(self, table: RuleTable) -> list[DomainEvent]:
        codes = [r.code for r in table.weak_reasons]
        if len(set(codes)) != len(codes):
            raise invalid("duplicate_weak_reason", "weak_reasons", "软弱涣散情形代码重复 / weak reason codes repeat")
        if not table.weak_reasons:
            raise invalid("weak_reasons_required", "weak_reasons", "至少需要一种软弱涣散情形 / at least one weak reason")
        return [RulesAdopted(table=table)]
