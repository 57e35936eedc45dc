"""Rules about 党群服务中心: one `Centre` aggregate per centre or station, and the county's
`CentreStandardsBook` (its standards per level, each version effective from a date).

Pure: the caller loads what a rule needs (does the township exist, the village organization a
centre serves, the standards in force) and passes "today". Every centre event carries its business
date, so `fold_as_of` gives the centres as they stood on any date (coverage.py counts them).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from shared.aggregate import Aggregate
from shared.catalog.base import DomainEvent
from shared.catalog.centres import (
    CentreClosed, CentreEvent, CentreFacilitiesUpdated, CentreInspected, CentrePlaqued, CentrePlaqueRemoved,
    CentreRegistered, CentreStandards, CentreStandardsAdopted, CentreUpgradePlanned, CentreUpgradeProgressed,
)
from shared.errors import conflict, invalid, not_found

from services.organizations.centres.commands import (
    LEVEL_NAMES, CloseCentre, InspectCentre, PlanCentreUpgrade, PlaqueCentre, RegisterCentre, ReportUpgradeProgress,
    UpdateCentreFacilities,
)
from services.organizations.centres.standards import (check_checklist_codes, check_standards_complete, evaluate,
                                                      standards_in_force)
from services.organizations.registry.domain import Organization, check_not_future

PLACE_LEVELS = {"village": "village", "community": "community"}  # level → host unit type of the place served


@dataclass
class UpgradePlan:
    year: int
    kind: str
    items: tuple[str, ...]
    due_on: date
    planned_on: date
    percent: int = 0
    note: str | None = None
    reported_on: date | None = None


@dataclass
class Inspection:
    inspected_on: date
    inspected_by: str
    passed: bool
    met: tuple[str, ...]
    missing: tuple[str, ...]


class Centre(Aggregate):
    context, aggregate_type = "org", "centre"

    def __init__(self, aggregate_id: str):
        super().__init__(aggregate_id)
        self.name = self.kind = self.level = ""
        self.township_id: str | None = None
        self.organization_id: str | None = None
        self.address: str | None = None
        self.floor_area_m2 = 0
        self.zones: tuple[str, ...] = ()
        self.windows: tuple[str, ...] = ()
        self.signage = self.night_visible = False
        self.opened_on: date | None = None
        self.facilities_since: date | None = None
        self.inspection: Inspection | None = None
        self.plaqued_on: date | None = None
        self.closed_on: date | None = None
        self.last_dated: date | None = None  # the latest business date recorded (a closure is not before it)
        self.plans: dict[int, UpgradePlan] = {}

    @property
    def to_standard(self) -> bool:
        """达标: the last inspection found every standard of its level met."""
        return self.inspection is not None and self.inspection.passed

    def apply(self, event: DomainEvent) -> None:
        if isinstance(event, CentreEvent):
            self.last_dated = max(self.last_dated or event.business_date, event.business_date)
        if isinstance(event, CentreRegistered):
            self.mark_exists()
            for name in ("name", "kind", "level", "township_id", "organization_id", "address", "opened_on"):
                setattr(self, name, getattr(event, name))
            self._facilities(event, event.opened_on)
        elif isinstance(event, CentreFacilitiesUpdated):
            self._facilities(event, event.effective_on)
        elif isinstance(event, CentreInspected):
            self.inspection = Inspection(event.inspected_on, event.inspected_by, event.passed, event.met, event.missing)
        elif isinstance(event, CentrePlaqued):
            self.plaqued_on = event.plaqued_on
        elif isinstance(event, CentrePlaqueRemoved):
            self.plaqued_on = None
        elif isinstance(event, CentreClosed):
            self.closed_on = event.closed_on
        elif isinstance(event, CentreUpgradePlanned):
            self.plans[event.year] = UpgradePlan(event.year, event.kind, event.items, event.due_on, event.planned_on)
        elif isinstance(event, CentreUpgradeProgressed):
            plan = self.plans[event.year]
            plan.percent, plan.note, plan.reported_on = event.percent, event.note, event.reported_on

    def _facilities(self, e: Any, since: date) -> None:
        self.floor_area_m2, self.zones, self.windows = e.floor_area_m2, tuple(e.zones), tuple(e.windows)
        self.signage, self.night_visible, self.facilities_since = e.signage, e.night_visible, since

    # --- commands: check the named invariants, return events, never mutate ---

    def register(self, cmd: RegisterCentre, *, township_exists: bool, served: Organization | None,
                 today: date) -> list[DomainEvent]:
        """`served`: the organization `cmd.organization_id` names, loaded by the caller (None if none named)."""
        if self.exists:
            raise conflict("centre_exists", f"党群服务中心 {self.id} 已登记 / centre {self.id} is already registered")
        check_not_future(cmd.opened_on, today, "opened_on", "建成日期", "opening date")
        check_township_given(cmd.level, cmd.township_id, township_exists)
        check_serves_a_place(cmd.level, cmd.township_id, cmd.organization_id, served)
        return [CentreRegistered(
            centre_id=self.id, name=cmd.name, kind=cmd.kind, level=cmd.level, township_id=cmd.township_id,
            organization_id=cmd.organization_id, address=cmd.address, floor_area_m2=cmd.floor_area_m2,
            zones=cmd.zones, windows=cmd.windows, signage=cmd.signage, night_visible=cmd.night_visible,
            opened_on=cmd.opened_on)]

    def update_facilities(self, cmd: UpdateCentreFacilities, *, today: date) -> list[DomainEvent]:
        self._check_dated(cmd.effective_on, today, "effective_on", "生效日期", "effective date")
        check_on_or_after(cmd.effective_on, self.facilities_since, "effective_on", "上次登记日期")
        return [CentreFacilitiesUpdated(centre_id=self.id, floor_area_m2=cmd.floor_area_m2, zones=cmd.zones,
                                        windows=cmd.windows, signage=cmd.signage, night_visible=cmd.night_visible,
                                        effective_on=cmd.effective_on)]

    def inspect(self, cmd: InspectCentre, *, standards: CentreStandards, today: date) -> list[DomainEvent]:
        """`standards`: the county's standards in force on the inspection date."""
        self._check_dated(cmd.inspected_on, today, "inspected_on", "核查日期", "inspection date")
        check_on_or_after(cmd.inspected_on, self.facilities_since, "inspected_on", "设施登记日期")
        if self.inspection is not None:
            check_on_or_after(cmd.inspected_on, self.inspection.inspected_on, "inspected_on", "上次核查日期")
        standard = standards.for_level(self.level)
        check_checklist_codes(standard, cmd.met)
        met, missing = evaluate(standard, self, cmd.met)
        found: list[DomainEvent] = [CentreInspected(
            centre_id=self.id, inspected_on=cmd.inspected_on, inspected_by=cmd.inspected_by,
            standards_from=standards.effective_from, met=met, missing=missing, passed=not missing, note=cmd.note)]
        if missing and self.plaqued_on is not None:  # a plaque says "to standard": it comes off when that ends
            found.append(CentrePlaqueRemoved(centre_id=self.id, removed_on=cmd.inspected_on,
                                             reason="核查未达标：" + "、".join(missing)))
        return found

    def close(self, cmd: CloseCentre, *, today: date) -> list[DomainEvent]:
        self._check_dated(cmd.closed_on, today, "closed_on", "关闭日期", "closing date")
        check_on_or_after(cmd.closed_on, self.last_dated, "closed_on", "最近登记日期")
        return [CentreClosed(centre_id=self.id, closed_on=cmd.closed_on, reason=cmd.reason, decided_by=cmd.decided_by)]

    def plaque(self, cmd: PlaqueCentre, *, today: date) -> list[DomainEvent]:
        self._check_dated(cmd.plaqued_on, today, "plaqued_on", "挂牌日期", "plaque date")
        if self.plaqued_on is not None:
            raise conflict("centre_plaqued", f"“{self.name}”已于 {self.plaqued_on} 挂牌 / already plaqued")
        check_inspected_to_standard(self, cmd.plaqued_on)
        return [CentrePlaqued(centre_id=self.id, plaqued_on=cmd.plaqued_on, approved_by=cmd.approved_by)]

    def plan_upgrade(self, cmd: PlanCentreUpgrade, *, today: date) -> list[DomainEvent]:
        self._check_dated(cmd.planned_on, today, "planned_on", "计划日期", "plan date")
        if cmd.year in self.plans:
            raise conflict("upgrade_planned", f"“{self.name}”已有 {cmd.year} 年度计划 / the centre has a "
                                              f"{cmd.year} plan already")
        return [CentreUpgradePlanned(centre_id=self.id, year=cmd.year, kind=cmd.kind, items=cmd.items,
                                     due_on=cmd.due_on, planned_on=cmd.planned_on)]

    def report_progress(self, cmd: ReportUpgradeProgress, *, today: date) -> list[DomainEvent]:
        self._check_dated(cmd.reported_on, today, "reported_on", "报告日期", "report date")
        plan = self.plans.get(cmd.year)
        if plan is None:
            raise not_found("upgrade_not_planned", f"“{self.name}”没有 {cmd.year} 年度计划 / no {cmd.year} plan",
                            "year")
        check_on_or_after(cmd.reported_on, plan.reported_on or plan.planned_on, "reported_on", "上次报告日期")
        if cmd.percent < plan.percent:
            raise invalid("progress_backwards", "percent", f"进度不能低于上次的 {plan.percent}% / progress cannot go "
                                                           f"below the last report's {plan.percent}%")
        return [CentreUpgradeProgressed(centre_id=self.id, year=cmd.year, percent=cmd.percent, note=cmd.note,
                                        reported_on=cmd.reported_on)]

    def _check_dated(self, day: date, today: date, field: str, zh: str, en: str) -> None:
        check_centre_exists(self)
        if self.closed_on is not None:
            raise conflict("centre_closed", f"“{self.name}”已于 {self.closed_on} 关闭 / the centre was closed on "
                                            f"{self.closed_on}")
        check_not_future(day, today, field, zh, en)
        check_on_or_after(day, self.opened_on, field, "建成日期")


class CentreStandardsBook(Aggregate):
    """The county's standards for centres, one version per effective date."""

    context, aggregate_type = "org", "centre_standards"

    def __init__(self, aggregate_id: str):
        super().__init__(aggregate_id)
        self.versions: list[CentreStandards] = []

    def apply(self, event: DomainEvent) -> None:
        if isinstance(event, CentreStandardsAdopted):
            self.mark_exists()
            self.versions = [v for v in self.versions if v.effective_from != event.standards.effective_from]
            self.versions.append(event.standards)

    def in_force(self, on: date) -> CentreStandards:
        return standards_in_force(self.versions, on)

    def adopt(self, table: CentreStandards) -> list[DomainEvent]:
        check_standards_complete(table)
        return [CentreStandardsAdopted(standards=table)]


# --- invariants ---

def check_centre_exists(centre: Centre) -> None:
    if not centre.exists:
        raise not_found("centre_not_found", f"党群服务中心 {centre.id} 不存在于本县 / centre {centre.id} not found")


def check_township_given(level: str, township_id: str | None, township_exists: bool) -> None:
    """A county-level centre belongs to no township; every other one names an existing township
    (parks, enterprises and buildings too: coverage and scope are by township)."""
    if level == "county":
        if township_id is not None:
            raise invalid("county_centre_in_township", "township_id",
                          "县级中心不属于乡镇 / a county-level centre belongs to no township")
        return
    if township_id is None:
        raise invalid("township_required", "township_id", f"{LEVEL_NAMES[level]}中心须填写所属乡镇 / township required")
    if not township_exists:
        raise not_found("township_not_found", "乡镇不存在于本县 / township not found in this county", "township_id")


def check_serves_a_place(level: str, township_id: str | None, organization_id: str | None,
                         served: Organization | None) -> None:
    """A village (community) centre serves one village (community): the Party organization hosted there,
    in the same township — that is what coverage counts."""
    host = PLACE_LEVELS.get(level)
    if host is None:
        return
    if organization_id is None:
        raise invalid("organization_required", "organization_id", f"{LEVEL_NAMES[level]}级中心须填写所服务的"
                                                                  f"{LEVEL_NAMES[level]}党组织 / name the organization served")
    if served is None or not served.exists or served.status != "active":
        raise not_found("organization_not_found", "党组织不存在于本县或已撤销 / organization not found or "
                        "dissolved", "organization_id")
    if served.host_unit_type != host or served.township_id != township_id:
        raise invalid("not_a_place_of_level", "organization_id",
                      f"“{served.name}”不是本乡镇的{LEVEL_NAMES[level]}党组织 / not a {host} organization of the township")


def check_inspected_to_standard(centre: Centre, on: date) -> None:
    if centre.inspection is None or not centre.inspection.passed:
        raise conflict("centre_not_to_standard", f"“{centre.name}”最近一次核查未达标，不能挂牌 / "
                                                 "its last inspection did not find it to standard")
    check_on_or_after(on, centre.inspection.inspected_on, "plaqued_on", "核查日期")


def check_on_or_after(day: date, earliest: date | None, field: str, earliest_zh: str) -> None:
    """A centre's business dates run forward, so an as-of fold never sees it before it existed."""
    if earliest is not None and day < earliest:
        raise invalid(f"{field}_too_early", field, f"日期早于{earliest_zh}（{earliest}） / date is before {earliest}")


def fold_as_of(events: Iterable[DomainEvent], on: date) -> dict[str, Centre]:
    """Centres as they stood on `on`: events dated after `on` are left out, the rest applied in log order;
    a centre closed on or before `on` is no longer there."""
    centres: dict[str, Centre] = {}
    for event in events:
        if not isinstance(event, CentreEvent) or event.business_date > on:
            continue
        centre = centres.get(event.centre_id)
        if centre is None:
            if not isinstance(event, CentreRegistered):
                continue
            centre = centres[event.centre_id] = Centre(event.centre_id)
        centre.apply(event)
    return {cid: c for cid, c in centres.items() if c.closed_on is None}
