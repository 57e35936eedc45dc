"""Coverage of 两新组织 (组织覆盖 / 工作覆盖) from the units' states and the county's rule table.

Pure and fast (plain loops, one pass over the units): the same figures serve the dashboard and
any past date (fold the log with `fold_as_of`, then compute). Only in-scope units are counted in
the rows; rows still appear for every key that has a unit, so a township with none in scope shows 0.
The targets count what the county's rule table says: the "4个100%" organization targets count its
qualifying units (符合组建条件, `qualifies`), the instructor target every unorganized unit that is in
scope or qualifies.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from shared.catalog.rules import CoverageScope, CoverageTarget, QualifyingRule, RuleTable

from services.organizations.enterprises.domain import MASS_ORGANIZATION_NAMES, EnterpriseState

DIMENSIONS = ("county", "township", "industry", "size_band", "unit_type")
SIZE_BANDS = ("<10", "10-29", "30-99", "100+")
ALL_MASS_ORGANIZATIONS = frozenset(MASS_ORGANIZATION_NAMES)
WORK_COVERING_MASS_ORGANIZATIONS = frozenset({"trade_union", "youth_league"})


@dataclass(frozen=True, slots=True)
class CoverageRow:
    dimension: str
    key: str
    in_scope: int
    standalone: int
    joint: int  # joint + industry + area + building
    organized: int
    organization_coverage_rate: float | None  # organized ÷ in_scope
    standalone_rate: float | None
    unorganized: int
    work_covered: int  # unorganized, with an instructor/liaison or a union/youth-league branch
    work_coverage_rate: float | None  # work_covered ÷ unorganized
    mass_orgs_complete: int  # organized units with all of 工青妇
    mass_org_rate: float | None  # mass_orgs_complete ÷ organized


@dataclass(frozen=True, slots=True)
class UnitRef:
    enterprise_id: str
    name: str
    township_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class TargetResult:
    code: str
    name: str
    kind: str
    rate: float  # the target
    population: int  # units the target applies to
    satisfied: int
    achieved: float | None  # None when no unit is concerned
    met: bool
    shortfall: list[UnitRef] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class CoverageReport:
    rows: list[CoverageRow]
    targets: list[TargetResult]
    members_without_organization: list[UnitRef]  # 有党员无组织
    no_organization_no_instructor: list[UnitRef]

    def row(self, dimension: str, key: str) -> CoverageRow | None:
        return next((r for r in self.rows if r.dimension == dimension and r.key == key), None)


def in_scope(state: EnterpriseState, scope: CoverageScope) -> bool:
    """Operating units with fixed premises (if required) and enough employees for their type."""
    if state.status != "operating" or (scope.require_fixed_premises and not state.fixed_premises):
        return False
    minimum = (scope.social_organization_min_staff if state.unit_type == "social_organization"
               else scope.enterprise_min_employees)
    return state.employees >= minimum


def qualifies(state: EnterpriseState, rule: QualifyingRule, scope: CoverageScope) -> bool:
    """符合组建条件: an operating unit meeting any criterion the county set; every in-scope unit when it set
    none."""
    if rule.every_in_scope_unit:
        return in_scope(state, scope)
    return state.status == "operating" and (
        (rule.min_full_members is not None and state.full_members >= rule.min_full_members)
        or (rule.min_employees is not None and state.employees >= rule.min_employees))


def size_band(employees: int) -> str:
    return "<10" if employees < 10 else "10-29" if employees < 30 else "30-99" if employees < 100 else "100+"


def is_work_covered(state: EnterpriseState) -> bool:
    """工作覆盖: no organization, but an instructor/liaison or a union or youth-league branch."""
    return state.organization_id is None and (
        state.instructor is not None or not WORK_COVERING_MASS_ORGANIZATIONS.isdisjoint(state.mass_organizations))


def rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def coverage(states: Iterable[EnterpriseState] | Mapping[str, EnterpriseState], rules: RuleTable, *,
             county: str = "all", details: bool = True) -> CoverageReport:
    """Rows by county (key `county`), township, industry, size band and unit type; the county's
    configured targets with the units that fall short; and the two worklists. `details=False` (a
    monthly series): the same figures without the units' lists (shortfall = population - satisfied),
    which are half the cost."""
    units = list(states.values() if isinstance(states, Mapping) else states)
    scope = rules.coverage
    counts: dict[tuple[str, str], list[int]] = {}  # [in_scope, standalone, joint, work_covered, mass_complete]
    scoped: list[EnterpriseState] = []
    for s in units:
        keys = (("county", county), ("township", s.township_id), ("industry", s.industry),
                ("size_band", size_band(s.employees)), ("unit_type", s.unit_type))
        cells = [counts.get(k) or counts.setdefault(k, [0, 0, 0, 0, 0]) for k in keys]
        if not in_scope(s, scope):
            continue
        scoped.append(s)
        organized = s.organization_id is not None
        standalone = organized and s.founding_mode == "standalone"
        work = not organized and is_work_covered(s)
        complete = organized and ALL_MASS_ORGANIZATIONS <= s.mass_organizations
        for c in cells:
            c[0] += 1
            if standalone:
                c[1] += 1
            elif organized:
                c[2] += 1
            if work:
                c[3] += 1
            if complete:
                c[4] += 1
    rows = [_row(dim, key, counts[(dim, key)]) for dim, key in sorted(counts, key=_row_order)]
    order = _ordered if details else list
    ordered = order(scoped)
    qualifying = ordered if rules.qualifying.every_in_scope_unit else \
        order(s for s in units if qualifies(s, rules.qualifying, scope))
    qualify = scope.qualify_own_branch_min_full_members
    targets = [_target(t, units, ordered, qualifying, rules, details) for t in rules.targets]
    if not details:
        return CoverageReport(rows, targets, [], [])
    return CoverageReport(
        rows=rows,
        targets=targets,
        members_without_organization=[
            _ref(s, f"正式党员{s.full_members}名，未建党组织 / {s.full_members} full members, no organization")
            for s in ordered if s.organization_id is None and s.full_members >= qualify],
        no_organization_no_instructor=[
            _ref(s, "未建党组织，未选派党建指导员/联络员 / no organization and no instructor or liaison")
            for s in ordered if s.organization_id is None and s.instructor is None],
    )


def _row_order(dim_key: tuple[str, str]) -> tuple:
    dim, key = dim_key
    return DIMENSIONS.index(dim), SIZE_BANDS.index(key) if dim == "size_band" else 0, key


def _row(dimension: str, key: str, c: list[int]) -> CoverageRow:
    in_scope_, standalone, joint, work, complete = c
    organized = standalone + joint
    unorganized = in_scope_ - organized
    return CoverageRow(dimension, key, in_scope_, standalone, joint, organized, rate(organized, in_scope_),
                       rate(standalone, in_scope_), unorganized, work, rate(work, unorganized), complete,
                       rate(complete, organized))


def _ref(s: EnterpriseState, reason: str) -> UnitRef:
    return UnitRef(s.enterprise_id, s.name, s.township_id, reason)


NO_ORGANIZATION = "未建党组织 / no Party organization"


def _ordered(units: Iterable[EnterpriseState]) -> list[EnterpriseState]:
    return sorted(units, key=lambda s: (s.township_id, s.name, s.enterprise_id))


def _target(target: CoverageTarget, units: list[EnterpriseState], scoped: list[EnterpriseState],
            qualifying: list[EnterpriseState], rules: RuleTable, details: bool = True) -> TargetResult:
    """Which units the target concerns and which of them fall short (with the reason, when `details`).
    `scoped` and `qualifying` are ordered by township, name and id when `details` (the same list when
    every in-scope unit qualifies)."""
    kind, scope = target.kind, rules.coverage
    order = _ordered if details else list
    if kind in ("organization_coverage", "social_organization_coverage"):
        wanted = "private_enterprise" if kind == "organization_coverage" else "social_organization"
        population = [s for s in qualifying if s.unit_type == wanted]
        short = [s for s in population if s.organization_id is None]
        reason = lambda s: NO_ORGANIZATION  # noqa: E731
    elif kind == "instructor_for_unorganized":
        population = [s for s in scoped if s.organization_id is None]
        if qualifying is not scoped:  # qualifying units outside the scope need an instructor too
            population = order({s.enterprise_id: s for s in (*population, *(
                q for q in qualifying if q.organization_id is None))}.values())
        short = [s for s in population if s.instructor is None]
        reason = lambda s: "未建党组织且未选派党建指导员/联络员 / no organization and no instructor"  # noqa: E731
    elif kind == "mass_organizations_for_organized":
        population = [s for s in scoped if s.organization_id is not None]
        short = [s for s in population if not ALL_MASS_ORGANIZATIONS <= s.mass_organizations]
        reason = _missing_mass_organizations
    else:  # organized_above_employees: every operating enterprise of that size, premises or not
        threshold = target.threshold if target.threshold is not None else scope.enterprise_min_employees
        population = order(s for s in units if s.unit_type == "private_enterprise" and s.status == "operating"
                           and s.employees >= threshold)
        short = [s for s in population if s.organization_id is None]
        reason = lambda s: f"从业人员{s.employees}人，未建党组织 / {s.employees} employees, no organization"  # noqa: E731
    satisfied = len(population) - len(short)
    return TargetResult(target.code, target.name, kind, target.rate, len(population), satisfied,
                        rate(satisfied, len(population)),
                        satisfied >= target.rate * len(population) - 1e-9,
                        [_ref(s, reason(s)) for s in short] if details else [])


def _missing_mass_organizations(s: EnterpriseState) -> str:
    missing = [k for k in MASS_ORGANIZATION_NAMES if k not in s.mass_organizations]
    return "缺少" + "、".join(MASS_ORGANIZATION_NAMES[k] for k in missing) + " / missing " + ", ".join(missing)
