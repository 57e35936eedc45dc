"""Rules about 两新组织: one `Enterprise` aggregate per unit, and its state on any past date.

Pure: the caller loads what a rule needs from the county's log (is the USCC already held, does the
township exist) and passes "today". Every event carries its business date, so `fold_as_of` can
rebuild the units as they stood on a date for coverage figures. Founding a Party organization
spans several units and the new organization: founding.py.
"""
from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from shared.aggregate import Aggregate
from shared.catalog.base import DomainEvent
from shared.catalog.enterprises import (
    EnterpriseBranchFounded, EnterpriseClosed, EnterpriseEvent, EnterpriseHeadcountUpdated, EnterpriseRegistered,
    EnterpriseReopened, InstructorAssigned, InstructorWithdrawn, MassOrganizationEstablished,
)
from shared.errors import conflict, invalid, not_found

from services.organizations.enterprises.commands import (
    AssignInstructor, CloseEnterprise, RecordMassOrganization, RegisterEnterprise, ReopenEnterprise,
    UpdateHeadcount, WithdrawInstructor,
)
from services.organizations.enterprises.uscc import validate_uscc
from services.organizations.registry.domain import check_not_future

MASS_ORGANIZATION_NAMES = {"trade_union": "工会", "youth_league": "共青团", "womens_federation": "妇联"}


@dataclass(frozen=True, slots=True)
class EnterpriseState:
    """A unit as it stood on some date: what coverage figures are computed from."""

    enterprise_id: str
    uscc: str
    name: str
    unit_type: str
    township_id: str
    industry: str
    employees: int
    full_members: int
    probationary_members: int
    status: str  # operating / suspended / deregistered
    fixed_premises: bool
    above_scale: bool
    registered_on: date
    organization_id: str | None = None
    founding_mode: str | None = None
    instructor: tuple[str, str] | None = None  # (person_name, role)
    mass_organizations: frozenset[str] = frozenset()

    @property
    def organized(self) -> bool:
        return self.organization_id is not None


class Enterprise(Aggregate):
    context, aggregate_type = "org", "enterprise"

    def __init__(self, aggregate_id: str):
        super().__init__(aggregate_id)
        self.uscc = self.name = self.unit_type = self.township_id = self.industry = ""
        self.employees = self.full_members = self.probationary_members = 0
        self.status = "operating"
        self.status_since: date | None = None  # registration, closing or reopening date
        self.fixed_premises, self.above_scale = True, False
        self.registered_on: date | None = None
        self.organization_id: str | None = None
        self.founding_mode: str | None = None
        self.founded_on: date | None = None
        self.instructor: tuple[str, str] | None = None
        self.instructor_since: date | None = None
        self.mass_organizations: set[str] = set()

    def apply(self, event: DomainEvent) -> None:
        if isinstance(event, EnterpriseRegistered):
            self.mark_exists()
            for name in ("uscc", "name", "unit_type", "township_id", "industry", "employees", "full_members",
                         "probationary_members", "fixed_premises", "above_scale", "registered_on"):
                setattr(self, name, getattr(event, name))
            self.status, self.status_since = event.operating_status, event.registered_on
        elif isinstance(event, EnterpriseHeadcountUpdated):
            self.employees, self.full_members = event.employees, event.full_members
            self.probationary_members = event.probationary_members
        elif isinstance(event, EnterpriseClosed):
            self.status, self.status_since = event.status, event.closed_on
        elif isinstance(event, EnterpriseReopened):
            self.status, self.status_since = "operating", event.reopened_on
        elif isinstance(event, EnterpriseBranchFounded):
            self.organization_id, self.founding_mode = event.organization_id, event.founding_mode
            self.founded_on = event.founded_on
        elif isinstance(event, InstructorAssigned):
            self.instructor, self.instructor_since = (event.person_name, event.role), event.assigned_on
        elif isinstance(event, InstructorWithdrawn):
            self.instructor, self.instructor_since = None, None
        elif isinstance(event, MassOrganizationEstablished):
            self.mass_organizations.add(event.kind)

    @classmethod
    def from_snapshot(cls, state: EnterpriseState) -> "Enterprise":
        """Rehydrate from a read-model row (the live coverage projection folds onto it)."""
        unit = cls(state.enterprise_id)
        unit.mark_exists()
        for name in ("uscc", "name", "unit_type", "township_id", "industry", "employees", "full_members",
                     "probationary_members", "status", "fixed_premises", "above_scale", "registered_on",
                     "organization_id", "founding_mode", "instructor"):
            setattr(unit, name, getattr(state, name))
        unit.mass_organizations = set(state.mass_organizations)
        return unit

    def snapshot(self) -> EnterpriseState:
        assert self.registered_on is not None, "snapshot of an unregistered unit"
        return EnterpriseState(
            self.id, self.uscc, self.name, self.unit_type, self.township_id, self.industry, self.employees,
            self.full_members, self.probationary_members, self.status, self.fixed_premises, self.above_scale,
            self.registered_on, self.organization_id, self.founding_mode, self.instructor,
            frozenset(self.mass_organizations))

    # --- commands: check the named invariants, return events, never mutate ---

    def register(self, cmd: RegisterEnterprise, *, uscc_taken: bool, township_exists: bool,
                 today: date) -> list[DomainEvent]:
        """`uscc_taken`: another unit of this county already holds the code (the caller looks it up)."""
        if self.exists:
            raise conflict("enterprise_exists", f"单位 {self.id} 已登记 / unit {self.id} is already registered")
        uscc = validate_uscc(cmd.uscc)
        if uscc_taken:
            raise conflict("uscc_taken", f"统一社会信用代码 {uscc} 已被本县其他单位登记 / "
                                         f"another unit of this county already has code {uscc}")
        if not township_exists:
            raise not_found("township_not_found", "乡镇不存在于本县 / township not found in this county",
                            "township_id")
        check_not_future(cmd.registered_on, today, "registered_on", "登记日期", "registration date")
        check_members_within_employees(cmd.employees, cmd.full_members, cmd.probationary_members)
        return [EnterpriseRegistered(
            enterprise_id=self.id, uscc=uscc, name=cmd.name, unit_type=cmd.unit_type, township_id=cmd.township_id,
            industry=cmd.industry, employees=cmd.employees, full_members=cmd.full_members,
            probationary_members=cmd.probationary_members, operating_status=cmd.operating_status,
            fixed_premises=cmd.fixed_premises, above_scale=cmd.above_scale, registered_on=cmd.registered_on)]

    def update_headcount(self, cmd: UpdateHeadcount, *, today: date) -> list[DomainEvent]:
        self._check_dated(cmd.effective_on, today, "effective_on", "生效日期", "effective date")
        check_members_within_employees(cmd.employees, cmd.full_members, cmd.probationary_members)
        if (cmd.employees, cmd.full_members, cmd.probationary_members) == (
                self.employees, self.full_members, self.probationary_members):
            return []  # nothing changed: a retried or repeated update records nothing
        return [EnterpriseHeadcountUpdated(
            enterprise_id=self.id, employees=cmd.employees, full_members=cmd.full_members,
            probationary_members=cmd.probationary_members, effective_on=cmd.effective_on)]

    def close(self, cmd: CloseEnterprise, *, today: date) -> list[DomainEvent]:
        self._check_dated(cmd.closed_on, today, "closed_on", "停产或注销日期", "closing date")
        if self.status == cmd.status or self.status == "deregistered":
            raise conflict("already_closed", f"单位“{self.name}”已{_STATUS_ZH[self.status]} / "
                                             f"the unit is already {self.status}")
        check_on_or_after(cmd.closed_on, self.status_since, "closed_on", "状态变更日期")
        return [EnterpriseClosed(enterprise_id=self.id, status=cmd.status, closed_on=cmd.closed_on,
                                 reason=cmd.reason)]

    def reopen(self, cmd: ReopenEnterprise, *, today: date) -> list[DomainEvent]:
        self._check_dated(cmd.reopened_on, today, "reopened_on", "恢复经营日期", "reopening date")
        if self.status == "operating":
            raise conflict("not_closed", f"单位“{self.name}”正常经营，无需恢复 / the unit is operating")
        check_on_or_after(cmd.reopened_on, self.status_since, "reopened_on", "停产或注销日期")
        return [EnterpriseReopened(enterprise_id=self.id, reopened_on=cmd.reopened_on, reason=cmd.reason)]

    def assign_instructor(self, cmd: AssignInstructor, *, today: date) -> list[DomainEvent]:
        self._check_dated(cmd.assigned_on, today, "assigned_on", "选派日期", "assignment date")
        if self.instructor is not None:
            raise conflict("instructor_assigned", f"单位“{self.name}”已有党建指导员/联络员 {self.instructor[0]}，"
                                                  f"请先撤回 / the unit already has one; withdraw them first")
        if self.status == "deregistered":
            raise invalid("enterprise_deregistered", "assigned_on",
                          f"单位“{self.name}”已注销 / the unit is deregistered")
        return [InstructorAssigned(enterprise_id=self.id, person_name=cmd.person_name, role=cmd.role,
                                   assigned_on=cmd.assigned_on)]

    def withdraw_instructor(self, cmd: WithdrawInstructor, *, today: date) -> list[DomainEvent]:
        self._check_dated(cmd.withdrawn_on, today, "withdrawn_on", "撤回日期", "withdrawal date")
        if self.instructor is None:
            raise conflict("no_instructor", f"单位“{self.name}”没有党建指导员/联络员 / the unit has no instructor")
        check_on_or_after(cmd.withdrawn_on, self.instructor_since, "withdrawn_on", "选派日期")
        return [InstructorWithdrawn(enterprise_id=self.id, withdrawn_on=cmd.withdrawn_on, reason=cmd.reason)]

    def record_mass_organization(self, cmd: RecordMassOrganization, *, today: date) -> list[DomainEvent]:
        self._check_dated(cmd.established_on, today, "established_on", "建立日期", "date")
        if cmd.kind in self.mass_organizations:
            raise conflict("mass_organization_exists", f"单位“{self.name}”已记录{MASS_ORGANIZATION_NAMES[cmd.kind]}"
                                                       f"组织 / the unit's {cmd.kind} is already recorded")
        return [MassOrganizationEstablished(enterprise_id=self.id, kind=cmd.kind, established_on=cmd.established_on)]

    def _check_dated(self, day: date, today: date, field: str, label_zh: str, label_en: str) -> None:
        check_enterprise_exists(self)
        check_not_future(day, today, field, label_zh, label_en)
        check_on_or_after(day, self.registered_on, field, "登记日期")


_STATUS_ZH = {"operating": "正常经营", "suspended": "停产", "deregistered": "注销"}


# --- invariants ---

def check_enterprise_exists(unit: Enterprise) -> None:
    if not unit.exists:
        raise not_found("enterprise_not_found", f"单位 {unit.id} 不存在于本县 / unit {unit.id} not found in this county")


def check_members_within_employees(employees: int, full: int, probationary: int) -> None:
    """Members counted for a unit work there, so they cannot outnumber its employees."""
    if full + probationary > employees:
        raise invalid("members_exceed_employees", "full_members",
                      f"党员人数（{full + probationary}）超过从业人员数（{employees}） / "
                      f"more Party members than employees")


def check_on_or_after(day: date, earliest: date | None, field: str, earliest_zh: str) -> None:
    """Business dates of one unit run forward, so an as-of fold never sees a unit before it existed."""
    if earliest is not None and day < earliest:
        raise invalid(f"{field}_too_early", field, f"日期早于{earliest_zh}（{earliest}） / date is before {earliest}")


def fold_as_of(events: Iterable[DomainEvent | tuple[Any, ...]], on: date) -> dict[str, EnterpriseState]:
    """Units as they stood on `on`: events whose business date is after `on` are left out, the rest
    are applied in log order. Items may be events or tuples ending in an event (e.g. the
    (enterprise_id, event) pairs of `found_branch`); other contexts' events are ignored."""
    units: dict[str, Enterprise] = {}
    for item in events:
        event = item[-1] if isinstance(item, tuple) else item
        if not isinstance(event, EnterpriseEvent) or event.business_date > on:
            continue
        unit = units.get(event.enterprise_id)
        if unit is None:
            if not isinstance(event, EnterpriseRegistered):
                continue  # nothing is known of a unit before its registration
            unit = units[event.enterprise_id] = Enterprise(event.enterprise_id)
        unit.apply(event)
    return {eid: unit.snapshot() for eid, unit in units.items()}


def fold_month_ends(events: Iterable[DomainEvent | tuple[Any, ...]], ends: list[date]
                    ) -> Iterator[tuple[date, dict[str, EnterpriseState]]]:
    """`fold_as_of(events, end)` for each of the ascending dates `ends`, at a fraction of the cost. Units
    fold independently, so a unit changes only at the first end on or after the business date of one of
    its events; there its newly effective events are applied to it when they all follow, in log order,
    the ones it has (the same fold), else it is folded again from its own events (a back-dated entry)."""
    by_unit: dict[str, list[EnterpriseEvent]] = {}
    touched: list[dict[str, list[int]]] = [{} for _ in ends]  # per end: unit → indices of its new events
    for item in events:
        event = item[-1] if isinstance(item, tuple) else item
        if not isinstance(event, EnterpriseEvent):
            continue
        own = by_unit.setdefault(event.enterprise_id, [])
        own.append(event)
        k = bisect_left(ends, event.business_date)
        if k < len(ends):
            touched[k].setdefault(event.enterprise_id, []).append(len(own) - 1)
    folded: dict[str, tuple[Enterprise, int]] = {}  # unit → its aggregate, index of its last applied event
    units: dict[str, EnterpriseState] = {}
    for k, end in enumerate(ends):
        for eid, fresh in touched[k].items():
            unit, last = folded.get(eid, (None, None))
            if unit is not None and fresh[0] > last:
                for i in fresh:
                    unit.apply(by_unit[eid][i])
                folded[eid] = (unit, fresh[-1])
            else:
                included = [i for i, e in enumerate(by_unit[eid]) if e.business_date <= end]
                unit = _fold_unit(eid, [by_unit[eid][i] for i in included])
                if unit is None:
                    continue
                folded[eid] = (unit, included[-1])
            units[eid] = unit.snapshot()
        yield end, dict(units)


def _fold_unit(eid: str, events: list[EnterpriseEvent]) -> "Enterprise | None":
    """One unit folded as fold_as_of does (nothing before its registration)."""
    unit = None
    for event in events:
        if unit is None:
            if not isinstance(event, EnterpriseRegistered):
                continue
            unit = Enterprise(eid)
        unit.apply(event)
    return unit
