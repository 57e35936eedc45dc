"""Events of 党群服务中心 (Party-mass service centres and stations): one aggregate per centre, and the
county's standards per level (one rule book per county, each version effective from a date).

Every centre event carries the business date it takes effect on (`business_date`), so coverage can be
folded "as of" any date, as for 两新组织 (docs/decisions/005-coverage-as-of.md).
"""
from __future__ import annotations

from datetime import date
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.catalog.base import DomainEvent

CentreLevel = Literal["county", "township", "village", "community", "park", "enterprise", "building"]
CentreKind = Literal["centre", "station"]  # 党群服务中心 / 党群服务站
Zone = Literal["daily_office", "integrated_services", "activities", "education"]
Window = Literal["member_services", "integrated_business", "proxy_services", "consultation_complaints"]
UpgradeKind = Literal["upgrade", "optimize"]  # 提升改造 / 优化
LEVELS: tuple[str, ...] = CentreLevel.__args__  # type: ignore[attr-defined]
ZONES: tuple[str, ...] = Zone.__args__  # type: ignore[attr-defined]
WINDOWS: tuple[str, ...] = Window.__args__  # type: ignore[attr-defined]


class _Data(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ChecklistItem(_Data):
    """A standard an inspector judges on site (e.g. 制度上墙), beside the measured ones."""

    code: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$", description="代码 / code, e.g. rules_displayed")
    name: str = Field(min_length=1, max_length=60, description="名称 / e.g. 服务制度上墙公开")


class LevelStandard(_Data):
    """What a centre of one level needs to be to standard (达标)."""

    level: CentreLevel = Field(description="层级 / level")
    min_floor_area_m2: int = Field(ge=0, le=100_000, description="最小面积（平方米） / minimum floor area, m²")
    zones: tuple[Zone, ...] = Field((), description="必备功能区 / zones required")
    windows: tuple[Window, ...] = Field((), description="必设服务窗口 / service windows required")
    signage: bool = Field(True, description="须有统一标识 / unified signage required")
    night_visible: bool = Field(False, description="标识须夜间可视 / signage visible at night required")
    checklist: tuple[ChecklistItem, ...] = Field((), description="现场核查项 / items judged on site")


class CentreStandards(_Data):
    """The county's standards for centres, per level, in force from a date (validated as a whole)."""

    effective_from: date = Field(date(2000, 1, 1), description="生效日期 / in force from this date")
    levels: tuple[LevelStandard, ...] = Field(description="各层级标准，每个层级一条 / one entry per level")
    coverage_target: float = Field(0.98, gt=0, le=1, description="覆盖率目标 / coverage target, e.g. 0.98")

    def for_level(self, level: str) -> LevelStandard:
        return next(s for s in self.levels if s.level == level)


class CentreStandardsAdopted(DomainEvent, context="org", aggregate="centre_standards"):
    standards: CentreStandards


class CentreEvent(DomainEvent):
    """Base of the centre events (registers nothing itself): names the business-date field."""

    date_field: ClassVar[str]
    centre_id: str

    @property
    def business_date(self) -> date:
        return getattr(self, self.date_field)


class CentreRegistered(CentreEvent, context="org", aggregate="centre"):
    date_field: ClassVar[str] = "opened_on"
    name: str
    kind: CentreKind
    level: CentreLevel
    township_id: str | None = None
    organization_id: str | None = Field(None, description="the village/community organization a centre serves")
    address: str | None = None
    floor_area_m2: int = Field(ge=0)
    zones: tuple[Zone, ...] = ()
    windows: tuple[Window, ...] = ()
    signage: bool = False
    night_visible: bool = False
    opened_on: date


class CentreFacilitiesUpdated(CentreEvent, context="org", aggregate="centre"):
    date_field: ClassVar[str] = "effective_on"
    floor_area_m2: int = Field(ge=0)
    zones: tuple[Zone, ...] = ()
    windows: tuple[Window, ...] = ()
    signage: bool = False
    night_visible: bool = False
    effective_on: date


class CentreInspected(CentreEvent, context="org", aggregate="centre"):
    """What the inspection found, against the standards in force on its date (`standards_from`)."""

    date_field: ClassVar[str] = "inspected_on"
    inspected_on: date
    inspected_by: str
    standards_from: date = Field(description="effective_from of the standards applied")
    met: tuple[str, ...] = Field(description="standard codes met: floor_area, zone:…, window:…, signage, …")
    missing: tuple[str, ...] = Field(description="standard codes not met")
    passed: bool = Field(description="every standard of the centre's level met (达标)")
    note: str | None = None


class CentrePlaqued(CentreEvent, context="org", aggregate="centre"):
    """挂牌: only after an inspection that passed."""

    date_field: ClassVar[str] = "plaqued_on"
    plaqued_on: date
    approved_by: str


class CentrePlaqueRemoved(CentreEvent, context="org", aggregate="centre"):
    """摘牌: a plaqued centre's inspection found it below standard (appended with that CentreInspected)."""

    date_field: ClassVar[str] = "removed_on"
    removed_on: date
    reason: str


class CentreClosed(CentreEvent, context="org", aggregate="centre"):
    """撤销（关闭）: the centre no longer serves; it leaves the registry's counts and coverage from this date."""

    date_field: ClassVar[str] = "closed_on"
    closed_on: date
    reason: str
    decided_by: str


class CentreUpgradePlanned(CentreEvent, context="org", aggregate="centre"):
    """A yearly plan: 提升改造 (upgrade, to reach the standard) or 优化 (optimize, beyond it)."""

    date_field: ClassVar[str] = "planned_on"
    year: int
    kind: UpgradeKind
    items: tuple[str, ...]
    due_on: date
    planned_on: date


class CentreUpgradeProgressed(CentreEvent, context="org", aggregate="centre"):
    date_field: ClassVar[str] = "reported_on"
    year: int
    percent: int = Field(ge=0, le=100)
    note: str
    reported_on: date
