"""Commands about 两新组织 and their replies: registering units, their headcount and status, founding
their Party organizations, instructors and 工青妇. Shape checks only; rules needing state are in
domain.py and founding.py. A command on one unit names it (the gateway takes it from the path).

Forms and spreadsheets say 非公企业/停产/联合组建/联络员/工会; the log always says the identifiers.
The USCC is only normalized here: validate_uscc runs in the domain so a wrong code is refused with
the reason (a regex here could only say "does not match").
"""
from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, Field, field_validator

from shared.catalog.enterprises import (ClosedStatus, FoundingMode, InstructorRole, MassOrganizationKind,
                                        OperatingStatus, UnitType)

from services.organizations.contracts import TOKEN_PATTERN, Command, Token, UploadedFile, blank_to_none
from services.organizations.enterprises.uscc import normalize_uscc

UNIT_TYPE_ALIASES = {
    "非公企业": "private_enterprise", "非公有制企业": "private_enterprise", "企业": "private_enterprise",
    "民营企业": "private_enterprise", "private_enterprise": "private_enterprise",
    "社会组织": "social_organization", "社会团体": "social_organization", "民办非企业单位": "social_organization",
    "基金会": "social_organization", "social_organization": "social_organization",
}
OPERATING_STATUS_ALIASES = {
    "正常经营": "operating", "在营": "operating", "存续": "operating", "开业": "operating", "正常": "operating",
    "operating": "operating",
    "停产": "suspended", "停业": "suspended", "歇业": "suspended", "suspended": "suspended",
    "注销": "deregistered", "吊销": "deregistered", "deregistered": "deregistered",
}
FOUNDING_MODE_ALIASES = {
    "单独组建": "standalone", "单建": "standalone", "standalone": "standalone",
    "联合组建": "joint", "联建": "joint", "joint": "joint",
    "行业统建": "industry", "industry": "industry",
    "区域联建": "area", "area": "area",
    "楼宇共建": "building", "building": "building",
}
ROLE_ALIASES = {"党建指导员": "instructor", "指导员": "instructor", "instructor": "instructor",
                "党建联络员": "liaison", "联络员": "liaison", "liaison": "liaison"}
MASS_ORGANIZATION_ALIASES = {
    "工会": "trade_union", "trade_union": "trade_union",
    "共青团": "youth_league", "团组织": "youth_league", "团支部": "youth_league", "youth_league": "youth_league",
    "妇联": "womens_federation", "妇女组织": "womens_federation", "妇委会": "womens_federation",
    "womens_federation": "womens_federation",
}
BOOL_ALIASES = {"是": True, "有": True, "否": False, "无": False}


def _aliased(aliases: dict[str, str]):
    def normalize(value: Any) -> Any:
        return aliases.get(value.strip().lower(), value) if isinstance(value, str) else value
    return normalize


def _yes_no(value: Any) -> Any:
    return BOOL_ALIASES.get(value.strip(), value) if isinstance(value, str) else value


class _OnEnterprise(Command):
    enterprise_id: str = Field(pattern=TOKEN_PATTERN, description="单位编号 / the unit acted on")


class RegisterEnterprise(Command):
    """登记非公企业或社会组织 / Register a non-public enterprise or social organization of the county."""

    enterprise_id: str | None = Field(None, pattern=TOKEN_PATTERN,
                                      description="指定编号（可选，默认自动生成） / id; generated when omitted")
    uscc: str = Field(min_length=1, max_length=40, description="统一社会信用代码 / unified social credit code (18 chars)")
    name: str = Field(min_length=1, max_length=100, description="单位名称 / e.g. 北海市某海产品加工有限公司")
    unit_type: UnitType = Field(description="private_enterprise 非公企业 / social_organization 社会组织")
    township_id: str = Field(pattern=TOKEN_PATTERN, description="所属乡镇编号 / township id")
    industry: str = Field(min_length=1, max_length=40, description="行业（国民经济行业门类） / industry, e.g. 制造业")
    employees: int = Field(ge=0, le=10_000_000, description="从业人员数 / employees (staff of a social organization)")
    full_members: int = Field(ge=0, le=1_000_000, description="正式党员数 / full members")
    probationary_members: int = Field(0, ge=0, le=1_000_000, description="预备党员数 / probationary members")
    operating_status: OperatingStatus = Field("operating", description="operating 正常经营 / suspended 停产 / "
                                                                       "deregistered 注销")
    fixed_premises: bool = Field(True, description="有固定经营场所 / has fixed premises")
    above_scale: bool = Field(False, description="规模以上 / above designated size")
    registered_on: date = Field(description="登记（纳入管理）日期 / date the unit counts from")

    _blank = field_validator("enterprise_id", mode="before")(blank_to_none)
    _uscc = field_validator("uscc", mode="before")(lambda v: normalize_uscc(v) if isinstance(v, str) else v)
    _unit_type = field_validator("unit_type", mode="before")(_aliased(UNIT_TYPE_ALIASES))
    _status = field_validator("operating_status", mode="before")(_aliased(OPERATING_STATUS_ALIASES))
    _bools = field_validator("fixed_premises", "above_scale", mode="before")(_yes_no)


class UpdateHeadcount(_OnEnterprise):
    """更新从业人员和党员人数 / Update the unit's employees and Party members from a date."""

    employees: int = Field(ge=0, le=10_000_000, description="从业人员数 / employees")
    full_members: int = Field(ge=0, le=1_000_000, description="正式党员数 / full members")
    probationary_members: int = Field(0, ge=0, le=1_000_000, description="预备党员数 / probationary members")
    effective_on: date = Field(description="生效日期 / date the figures hold from")


class CloseEnterprise(_OnEnterprise):
    """停产或注销 / Record that the unit stopped operating or was deregistered."""

    status: ClosedStatus = Field(description="suspended 停产 / deregistered 注销")
    closed_on: date = Field(description="停产或注销日期 / date")
    reason: str = Field(min_length=1, max_length=200, description="原因 / reason")

    _status = field_validator("status", mode="before")(_aliased(OPERATING_STATUS_ALIASES))


class ReopenEnterprise(_OnEnterprise):
    """恢复经营 / Record that the unit operates again."""

    reopened_on: date = Field(description="恢复经营日期 / date")
    reason: str = Field(min_length=1, max_length=200, description="原因 / reason")


class FoundEnterpriseBranch(Command):
    """在两新组织中组建党组织（须经上级党组织批准） / Found a Party organization covering one unit
    (单独组建) or several (联合组建、行业统建、区域联建、楼宇共建)."""

    enterprise_ids: list[Token] = Field(min_length=1, max_length=50, description="覆盖单位编号 / covered units")
    founding_mode: FoundingMode = Field(description="standalone 单独组建 / joint 联合组建 / industry 行业统建 / "
                                                    "area 区域联建 / building 楼宇共建")
    organization_id: str | None = Field(None, pattern=TOKEN_PATTERN,
                                        description="党组织编号（可选，默认自动生成） / id; generated when omitted")
    organization_name: str = Field(min_length=1, max_length=80,
                                   description="党组织名称 / e.g. 北海市某海产品加工有限公司党支部")
    approved_by: str = Field(min_length=1, max_length=40, description="上级党组织批准人/机关 / who approved")
    approved_on: date = Field(description="批准日期 / date of approval")
    founded_on: date = Field(description="成立日期 / date of founding")

    _blank = field_validator("organization_id", mode="before")(blank_to_none)
    _mode = field_validator("founding_mode", mode="before")(_aliased(FOUNDING_MODE_ALIASES))

    @field_validator("enterprise_ids")
    @classmethod
    def _distinct(cls, ids: list[str]) -> list[str]:
        if len(set(ids)) != len(ids):
            raise ValueError("覆盖单位重复 / a unit is listed twice")
        return ids


class AssignInstructor(_OnEnterprise):
    """选派党建指导员或联络员 / Assign a Party-building instructor or liaison to the unit."""

    person_name: str = Field(min_length=1, max_length=40, description="姓名 / name, e.g. 陈海生")
    role: InstructorRole = Field(description="instructor 党建指导员 / liaison 联络员")
    assigned_on: date = Field(description="选派日期 / date of assignment")

    _role = field_validator("role", mode="before")(_aliased(ROLE_ALIASES))


class WithdrawInstructor(_OnEnterprise):
    """撤回党建指导员或联络员 / Withdraw the unit's instructor or liaison."""

    withdrawn_on: date = Field(description="撤回日期 / date")
    reason: str | None = Field(None, max_length=200, description="原因（可选） / reason")

    _blank = field_validator("reason", mode="before")(blank_to_none)


class RecordMassOrganization(_OnEnterprise):
    """记录工会、共青团或妇联组织的建立 / Record that the unit set up a 工会, 共青团 or 妇联 organization."""

    kind: MassOrganizationKind = Field(description="trade_union 工会 / youth_league 共青团 / womens_federation 妇联")
    established_on: date = Field(description="建立日期 / date")

    _kind = field_validator("kind", mode="before")(_aliased(MASS_ORGANIZATION_ALIASES))


class ImportEnterprises(UploadedFile):
    """批量导入两新组织 / Register the units of a spreadsheet (CSV or .xlsx): columns 统一社会信用代码, 单位名称,
    类型, 乡镇, 行业, 从业人员, 正式党员, 登记日期 (optional 预备党员, 经营状态, 固定场所, 规模以上); all rows or none."""


# -- replies --------------------------------------------------------------------------------------
class NewEnterprise(BaseModel):
    enterprise_id: str = Field(description="单位编号 / the unit's id")
    uscc: str = Field(description="统一社会信用代码（规范化后） / the code as normalized")


class EnterpriseChange(BaseModel):
    enterprise_id: str = Field(description="单位编号 / the unit changed")


class BranchFounded(BaseModel):
    organization_id: str = Field(description="新党组织编号 / the new organization")
    enterprise_ids: list[str] = Field(description="覆盖单位 / the units it covers")
    warnings: list[str] = Field(description="“一般”规则的提示 / what the \"generally\" rules said")


class EnterpriseImport(BaseModel):
    imported: int = Field(description="本次登记单位数 / units registered now")
    already_imported: int = Field(description="此前已登记（名称相同） / already registered with the same name")
    import_id: str = Field(description="导入编号（同一文件相同） / the same for the same file")
