"""The county's standards for 党群服务中心 per level: a reference baseline, which version is in force on a
date, the check of a table as a whole, and what a centre meets of its level's standard. Pure.

No national rule fixes a centre's floor area; provinces and counties publish their own (乡镇 often
≥300 m², 村 ≥200 m²). The baseline below is a reference a county replaces with its own table.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from shared.catalog.centres import LEVELS, ChecklistItem, CentreStandards, LevelStandard
from shared.errors import invalid

ALL_ZONES = ("daily_office", "integrated_services", "activities", "education")
ALL_WINDOWS = ("member_services", "integrated_business", "proxy_services", "consultation_complaints")
RULES_DISPLAYED = ChecklistItem(code="rules_displayed", name="服务制度、办事流程上墙公开")


def _level(level: str, area: int, zones=ALL_ZONES, windows=ALL_WINDOWS, night: bool = True) -> LevelStandard:
    return LevelStandard(level=level, min_floor_area_m2=area, zones=zones, windows=windows, signage=True,
                         night_visible=night, checklist=(RULES_DISPLAYED,))


BASELINE_STANDARDS = CentreStandards(levels=(
    _level("county", 1000),
    _level("township", 300),
    _level("village", 200, windows=("member_services", "proxy_services")),
    _level("community", 300),
    _level("park", 200, night=False),
    _level("enterprise", 100, zones=("activities", "education"), windows=("member_services",), night=False),
    _level("building", 100, zones=("activities", "education"), windows=("member_services",), night=False),
))


def standards_in_force(versions: Iterable[CentreStandards], on: date) -> CentreStandards:
    """The latest version effective on `on`; the baseline before any adopted version."""
    current = BASELINE_STANDARDS
    for table in sorted(versions, key=lambda t: t.effective_from):
        if table.effective_from <= on:
            current = table
    return current


def check_standards_complete(table: CentreStandards) -> None:
    """Every level once (an inspection of a level without a standard could decide nothing), codes unique,
    nothing listed twice."""
    levels = [s.level for s in table.levels]
    missing = [lv for lv in LEVELS if lv not in levels]
    if missing:
        raise invalid("centre_levels_missing", "levels", f"建设标准缺少层级 {missing} / no standard for {missing}")
    repeated = sorted({lv for lv in levels if levels.count(lv) > 1})
    if repeated:
        raise invalid("duplicate_centre_level", "levels", f"层级重复 {repeated} / levels repeat: {repeated}")
    for n, s in enumerate(table.levels):
        for name, values in (("zones", s.zones), ("windows", s.windows),
                             ("checklist", tuple(i.code for i in s.checklist))):
            if len(set(values)) != len(values):
                raise invalid("duplicate_standard", f"levels.{n}.{name}",
                              f"{s.level} 的标准项重复 / {s.level}: an item is listed twice")


def evaluate(standard: LevelStandard, facilities, checklist_met: Iterable[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(met, missing) standard codes: floor_area, zone:<zone>, window:<window>, signage, night_visible
    from the centre's record (`facilities`: anything with floor_area_m2, zones, windows, signage,
    night_visible), then the on-site checklist items the inspector found met."""
    checks = [("floor_area", facilities.floor_area_m2 >= standard.min_floor_area_m2)]
    checks += [(f"zone:{z}", z in facilities.zones) for z in standard.zones]
    checks += [(f"window:{w}", w in facilities.windows) for w in standard.windows]
    if standard.signage:
        checks.append(("signage", facilities.signage))
    if standard.night_visible:
        checks.append(("night_visible", facilities.signage and facilities.night_visible))
    found = set(checklist_met)
    checks += [(item.code, item.code in found) for item in standard.checklist]
    return tuple(c for c, ok in checks if ok), tuple(c for c, ok in checks if not ok)


def check_checklist_codes(standard: LevelStandard, met: Iterable[str]) -> None:
    known = {i.code for i in standard.checklist}
    unknown = sorted(set(met) - known)
    if unknown:
        raise invalid("unknown_standard", "met", f"{standard.level} 级标准中没有核查项 {unknown}（可选：{sorted(known)}） / "
                                                 f"not checklist items of the {standard.level} standard: {unknown}")
