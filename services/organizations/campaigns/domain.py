"""Classification (分类定级) of organizations, year by year, and the entry point of rectification.

`Classification` is keyed by organization id and holds every year, so 晋位升级/降级 is one fold of
one subject. A year classified again is a correction: a new event that needs a note; the latest
event of a year wins. The item set (五个好 / 双强六好) follows the host unit, so enterprises and
social organizations are judged against 双强六好 without anyone choosing it.
The rectification aggregate lives in rectification.py.
"""
from __future__ import annotations

from datetime import date
from typing import Literal

from services.organizations.registry.domain import Organization, check_not_future
from services.organizations.campaigns.commands import ClassifyOrganization
from shared.aggregate import Aggregate
from shared.catalog.base import DomainEvent
from shared.catalog.campaigns import OrganizationClassified
from shared.errors import invalid, not_found

FIVE_GOODS: dict[str, str] = {
    "good_leadership": "领导班子好",
    "good_membership": "党员队伍好",
    "good_mechanisms": "工作机制好",
    "good_performance": "工作业绩好",
    "good_public_response": "群众反映好",
}
# 双强 (党建强、发展强) + the commonly published 六好; places vary the six, hence data.
TWO_STRONGS_SIX_GOODS: dict[str, str] = {
    "strong_party_building": "党建强",
    "strong_development": "发展强",
    "good_team": "班子建设好",
    "good_membership": "党员队伍好",
    "good_activities": "活动开展好",
    "good_rules_in_practice": "制度落实好",
    "good_role_played": "作用发挥好",
    "good_public_evaluation": "群众评价好",
}
ITEM_SETS: dict[str, dict[str, str]] = {"five_goods": FIVE_GOODS, "two_strongs_six_goods": TWO_STRONGS_SIX_GOODS}
TWO_STRONGS_HOSTS = frozenset({"private_enterprise", "social_organization"})
PROGRAMME = {"advanced": "showcase", "average": "improve", "lagging": "remedy"}
GRADE_RANK = {"lagging": 0, "average": 1, "advanced": 2}
Movement = Literal["promoted", "demoted", "unchanged"]

def item_set_for(host_unit_type: str | None) -> str:
    """两新组织 (non-public enterprises, social organizations) → 双强六好; everyone else → 五个好."""
    return "two_strongs_six_goods" if host_unit_type in TWO_STRONGS_HOSTS else "five_goods"


class Classification(Aggregate):
    context, aggregate_type = "org", "classification"

    def __init__(self, aggregate_id: str):
        super().__init__(aggregate_id)
        self.by_year: dict[int, OrganizationClassified] = {}  # latest decision per year
        self.corrections: dict[int, int] = {}  # year → how many times it was re-classified

    def apply(self, event: DomainEvent) -> None:
        if isinstance(event, OrganizationClassified):
            self.mark_exists()
            if event.year in self.by_year:
                self.corrections[event.year] = self.corrections.get(event.year, 0) + 1
            self.by_year[event.year] = event

    def grade(self, year: int) -> str | None:
        return self.by_year[year].grade if year in self.by_year else None

    def history(self) -> list[tuple[int, str, Movement | None]]:
        """(year, grade, movement against the previous classified year); None for the first year."""
        rows: list[tuple[int, str, Movement | None]] = []
        previous: str | None = None
        for year in sorted(self.by_year):
            grade = self.by_year[year].grade
            movement: Movement | None = None
            if previous is not None:
                diff = GRADE_RANK[grade] - GRADE_RANK[previous]
                movement = "promoted" if diff > 0 else "demoted" if diff < 0 else "unchanged"
            rows.append((year, grade, movement))
            previous = grade
        return rows

    def classify(self, cmd: ClassifyOrganization, *, organization: Organization, today: date) -> list[DomainEvent]:
        check_classified_organization(self.id, organization)
        item_set = item_set_for(organization.host_unit_type)
        check_items_match_set(cmd.items, item_set)
        check_classification_dates(cmd.year, cmd.classified_on, today)
        if cmd.year in self.by_year and not cmd.note:
            raise invalid("correction_needs_note", "note",
                          f"{cmd.year}年度已定级（{self.by_year[cmd.year].grade}），重新定级须说明原因 / "
                          f"{cmd.year} is already classified; a correction needs a note")
        return [OrganizationClassified(
            organization_id=self.id, year=cmd.year, grade=cmd.grade, item_set=item_set,  # type: ignore[arg-type]
            items={code: cmd.items[code] for code in ITEM_SETS[item_set]}, note=cmd.note,
            programme=PROGRAMME[cmd.grade], classified_on=cmd.classified_on)]  # type: ignore[arg-type]


def check_classified_organization(classification_id: str, organization: Organization) -> None:
    """Classification is per grassroots organization; party groups are divisions of a branch."""
    if not organization.exists or organization.id != classification_id:
        raise not_found("organization_not_found", "党组织不存在于本县 / organization not found in this county",
                        "organization_id")
    if not organization.can_hold_members:
        raise invalid("party_group_not_classified", "organization_id",
                      "党小组不单独分类定级 / a party group is not classified on its own")


def check_items_match_set(items: dict[str, bool], item_set: str) -> None:
    """Every item of the set judged, nothing else: a grade is judged against the whole set."""
    expected = ITEM_SETS[item_set]
    unknown = [code for code in items if code not in expected]
    missing = [code for code in expected if code not in items]
    if unknown or missing:
        valid = "、".join(f"{code}（{name}）" for code, name in expected.items())
        raise invalid("items_do_not_match_set", "items",
                      f"评定项目须为 {item_set} 的全部项目：{valid}；未知 {unknown or '无'}，缺少 {missing or '无'} / "
                      f"items must be exactly those of {item_set}: unknown {unknown}, missing {missing}")


def check_classification_dates(year: int, classified_on: date, today: date) -> None:
    check_not_future(classified_on, today, "classified_on", "定级日期", "classification date")
    if classified_on.year < year:
        raise invalid("classified_before_year", "classified_on",
                      f"定级日期早于{year}年度 / a year is classified during or after it, not before")
