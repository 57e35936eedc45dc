"""Commands about 党群服务中心 and their replies: registering centres and stations, their facilities,
inspections against the county's standards, 挂牌, yearly upgrade plans and their progress. Shape
checks only; rules needing state are in domain.py. Forms and spreadsheets may say 村级/活动区/帮办代办;
the log always says the identifiers."""
from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, Field, field_validator, model_validator

from shared.catalog.centres import CentreKind, CentreLevel, CentreStandards, UpgradeKind, Window, Zone
from services.organizations.contracts import TOKEN_PATTERN, Command, UploadedFile, blank_to_none

LEVEL_ALIASES = {
    "县级": "county", "县": "county", "区级": "county", "county": "county",
    "乡镇": "township", "街道": "township", "乡镇（街道）": "township", "乡镇街道": "township", "township": "township",
    "村": "village", "村级": "village", "行政村": "village", "village": "village",
    "社区": "community", "community": "community",
    "园区": "park", "产业园区": "park", "park": "park",
    "企业": "enterprise", "enterprise": "enterprise",
    "楼宇": "building", "商务楼宇": "building", "building": "building",
}
KIND_ALIASES = {"中心": "centre", "党群服务中心": "centre", "centre": "centre",
                "站": "station", "站点": "station", "党群服务站": "station", "station": "station"}
ZONE_ALIASES = {"日常办公区": "daily_office", "办公区": "daily_office", "daily_office": "daily_office",
                "综合服务区": "integrated_services", "服务区": "integrated_services",
                "integrated_services": "integrated_services",
                "活动区": "activities", "党群活动区": "activities", "activities": "activities",
                "教育培训区": "education", "教育区": "education", "education": "education"}
WINDOW_ALIASES = {"党员服务": "member_services", "党员服务窗口": "member_services", "member_services": "member_services",
                  "综合业务": "integrated_business", "综合业务窗口": "integrated_business",
                  "integrated_business": "integrated_business",
                  "帮办代办": "proxy_services", "代办": "proxy_services", "proxy_services": "proxy_services",
                  "咨询投诉": "consultation_complaints", "咨询投诉窗口": "consultation_complaints",
                  "consultation_complaints": "consultation_complaints"}
UPGRADE_ALIASES = {"提升改造": "upgrade", "提升": "upgrade", "upgrade": "upgrade",
                   "优化": "optimize", "优化提升": "optimize", "optimize": "optimize"}
LEVEL_NAMES = {"county": "县级", "township": "乡镇（街道）", "village": "村", "community": "社区", "park": "园区",
               "enterprise": "企业", "building": "楼宇"}
ZONE_NAMES = {"daily_office": "日常办公区", "integrated_services": "综合服务区", "activities": "活动区",
              "education": "教育培训区"}
WINDOW_NAMES = {"member_services": "党员服务", "integrated_business": "综合业务", "proxy_services": "帮办代办",
                "consultation_complaints": "咨询投诉"}


def aliased(aliases: dict[str, str]):
    def normalize(value: Any) -> Any:
        if isinstance(value, str):
            return aliases.get(value.strip().lower(), value)
        if isinstance(value, (list, tuple)):
            return [aliases.get(v.strip().lower(), v) if isinstance(v, str) else v for v in value]
        return value
    return normalize


def _distinct(values: tuple[str, ...]) -> tuple[str, ...]:
    if len(set(values)) != len(values):
        raise ValueError("重复 / listed twice")
    return values


class Facilities(Command):
    """面积、功能区、标识、服务窗口 / what a centre has."""

    floor_area_m2: int = Field(ge=0, le=100_000, description="建筑面积（平方米） / floor area, m²")
    zones: tuple[Zone, ...] = Field((), description="功能区 / zones: daily_office 日常办公区, integrated_services "
                                                    "综合服务区, activities 活动区, education 教育培训区")
    windows: tuple[Window, ...] = Field((), description="服务窗口 / windows: member_services 党员服务, "
                                                        "integrated_business 综合业务, proxy_services 帮办代办, "
                                                        "consultation_complaints 咨询投诉")
    signage: bool = Field(False, description="有统一标识标牌 / has the unified signage")
    night_visible: bool = Field(False, description="标识夜间可视（亮化） / signage visible at night")

    _zones = field_validator("zones", mode="before")(aliased(ZONE_ALIASES))
    _windows = field_validator("windows", mode="before")(aliased(WINDOW_ALIASES))
    _distinct = field_validator("zones", "windows")(_distinct)


class RegisterCentre(Facilities):
    """登记党群服务中心（站） / Register a Party-mass service centre or station."""

    centre_id: str | None = Field(None, pattern=TOKEN_PATTERN, description="指定编号（可选） / id; generated when omitted")
    name: str = Field(min_length=1, max_length=80, description="名称 / e.g. 侨港镇党群服务中心")
    kind: CentreKind = Field("centre", description="centre 中心 / station 站")
    level: CentreLevel = Field(description="层级 / county 县级, township 乡镇（街道）, village 村, community 社区, "
                                           "park 园区, enterprise 企业, building 楼宇")
    township_id: str | None = Field(None, pattern=TOKEN_PATTERN, description="所属乡镇 / township (not for county level)")
    organization_id: str | None = Field(None, pattern=TOKEN_PATTERN,
                                        description="所服务的村（社区）党组织 / the village or community organization "
                                                    "it serves (village and community levels)")
    address: str | None = Field(None, max_length=120, description="地址（可选） / address")
    opened_on: date = Field(description="建成（投用）日期 / date it opened")

    _blank = field_validator("centre_id", "township_id", "organization_id", "address", mode="before")(blank_to_none)
    _level = field_validator("level", mode="before")(aliased(LEVEL_ALIASES))
    _kind = field_validator("kind", mode="before")(aliased(KIND_ALIASES))


class UpdateCentreFacilities(Facilities):
    """更新面积、功能区、标识、窗口 / Record the centre's facilities from a date (e.g. after an upgrade)."""

    centre_id: str = Field(pattern=TOKEN_PATTERN, description="中心编号 / the centre")
    effective_on: date = Field(description="生效日期 / date the facilities hold from")


class InspectCentre(Command):
    """达标核查 / Inspect a centre against the standards of its level in force on the inspection date:
    area, zones, signage and windows are checked from its record; `met` lists the on-site items met."""

    centre_id: str = Field(pattern=TOKEN_PATTERN, description="中心编号 / the centre")
    inspected_on: date = Field(description="核查日期 / date of the inspection")
    inspected_by: str = Field(min_length=1, max_length=40, description="核查人或单位 / who inspected")
    met: tuple[str, ...] = Field((), max_length=50, description="达到的现场核查项代码 / on-site checklist items met")
    note: str | None = Field(None, max_length=200, description="说明（可选） / note")

    _blank = field_validator("note", mode="before")(blank_to_none)


class PlaqueCentre(Command):
    """挂牌 / Plaque a centre whose last inspection found it to standard."""

    centre_id: str = Field(pattern=TOKEN_PATTERN, description="中心编号 / the centre")
    plaqued_on: date = Field(description="挂牌日期 / date")
    approved_by: str = Field(min_length=1, max_length=40, description="批准挂牌单位 / who approved, e.g. 县委组织部")


class CloseCentre(Command):
    """撤销（关闭）党群服务中心 / Close a centre: it leaves the counts and coverage from that date; a closed
    centre takes no further inspection, plaque, facilities or plan."""

    centre_id: str = Field(pattern=TOKEN_PATTERN, description="中心编号 / the centre")
    closed_on: date = Field(description="关闭日期 / date")
    reason: str = Field(min_length=1, max_length=200, description="原因 / reason, e.g. 村居合并")
    decided_by: str = Field(min_length=1, max_length=40, description="决定单位 / who decided")


class PlanCentreUpgrade(Command):
    """年度提升改造（优化）计划 / A year's upgrade (提升改造) or optimization (优化) plan for a centre."""

    centre_id: str = Field(pattern=TOKEN_PATTERN, description="中心编号 / the centre")
    year: int = Field(ge=2000, le=2100, description="年度 / year")
    kind: UpgradeKind = Field(description="upgrade 提升改造 / optimize 优化")
    items: tuple[str, ...] = Field(min_length=1, max_length=20, description="改造内容 / what is to be done")
    due_on: date = Field(description="计划完成日期 / due date")
    planned_on: date = Field(description="计划日期 / date of the plan")

    _kind = field_validator("kind", mode="before")(aliased(UPGRADE_ALIASES))

    @model_validator(mode="after")
    def _dates(self) -> "PlanCentreUpgrade":
        if self.due_on < self.planned_on:
            raise ValueError("计划完成日期早于计划日期 / due_on is before planned_on")
        return self


class ReportUpgradeProgress(Command):
    """报告提升改造进度 / Report the progress of a year's plan (100 = done)."""

    centre_id: str = Field(pattern=TOKEN_PATTERN, description="中心编号 / the centre")
    year: int = Field(ge=2000, le=2100, description="计划年度 / the plan's year")
    percent: int = Field(ge=0, le=100, description="完成进度（%） / progress, percent")
    note: str = Field(min_length=1, max_length=200, description="进展说明 / what was done")
    reported_on: date = Field(description="报告日期 / date")


AdoptCentreStandards = CentreStandards  # 采用建设标准: every level, effective from a date


class ImportCentres(UploadedFile):
    """批量导入党群服务中心 / Register the centres of a spreadsheet (CSV or .xlsx): columns 名称, 层级, 乡镇,
    面积, 建成日期 (optional 类型, 村社区党组织, 功能区, 服务窗口, 标识, 夜间可视, 地址); all rows or none."""


# -- replies --------------------------------------------------------------------------------------
class NewCentre(BaseModel):
    centre_id: str = Field(description="中心编号 / the centre's id")


class CentreChange(BaseModel):
    centre_id: str = Field(description="中心编号 / the centre changed")


class InspectionResult(BaseModel):
    centre_id: str = Field(description="中心编号 / the centre")
    passed: bool = Field(description="达标 / every standard of its level met")
    met: list[str] = Field(description="达到的标准 / standard codes met")
    missing: list[str] = Field(description="未达到的标准 / standard codes not met")


class StandardsEffective(BaseModel):
    effective_from: date = Field(description="生效日期 / the standards apply from this date")


class CentreImport(BaseModel):
    imported: int = Field(description="本次登记数 / centres registered now")
    already_imported: int = Field(description="此前已登记 / already registered from the same rows")
    import_id: str = Field(description="导入编号（同一文件相同） / the same for the same file")
