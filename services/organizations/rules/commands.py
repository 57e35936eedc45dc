"""The rules context's command: adopt a rule table (its shape is the catalog's RuleTable, so the
stored event and the command never drift apart) and its reply."""
from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from shared.catalog.rules import RuleTable

AdoptRules = RuleTable  # 采用规则表: the whole table, effective from its date


class RulesEffective(BaseModel):
    effective_from: date = Field(description="生效日期 / the table applies from this date")
