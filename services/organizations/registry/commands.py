"""Commands of the registry (counties, townships, organizations, members) and their replies:
what county staff ask for, validated before any rule runs.

Shape checks live here (the gateway publishes them as OpenAPI); rules that need state (does the
parent exist, is the member 18) live in domain.py.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, Field, field_validator

from shared.catalog.organizations import Gender, HostUnitType, MembershipStatus, OrganizationType
from services.organizations.contracts import TOKEN_PATTERN, Command, UploadedFile, blank_to_none

COUNTY_CODE_PATTERN = r"^[1-9]\d{5}$"

# Spreadsheets and forms say 男/正式党员; the log always says male/full.
GENDER_ALIASES: dict[str, str] = {"男": "male", "女": "female", "male": "male", "female": "female"}
STATUS_ALIASES: dict[str, str] = {
    "正式党员": "full", "正式": "full", "full": "full",
    "预备党员": "probationary", "预备": "probationary", "probationary": "probationary",
}


def normalize_gender(value: Any) -> Any:
    """男/女/Male/female -> male/female; anything else is left for validation to refuse."""
    return GENDER_ALIASES.get(value.strip().lower(), value) if isinstance(value, str) else value


def normalize_status(value: Any) -> Any:
    """正式党员/预备党员/full/probationary -> full/probationary."""
    return STATUS_ALIASES.get(value.strip().lower(), value) if isinstance(value, str) else value




class AddCounty(Command):
    """增加县（区） / Add a county-level unit, keyed by its administrative division code."""

    county_code: str = Field(pattern=COUNTY_CODE_PATTERN, description="6位行政区划代码 / 6-digit division code, e.g. 450503")
    name: str = Field(min_length=1, max_length=40, description="县（区）名称 / county name, e.g. 银海区")


class AddTownship(Command):
    """增加乡镇（街道） / Add a township or street office to a county."""

    name: str = Field(min_length=1, max_length=40, description="乡镇名称 / township name, e.g. 侨港镇")
    code: str | None = Field(None, max_length=12, description="乡镇区划代码（可选） / township division code")
    township_id: str | None = Field(None, pattern=TOKEN_PATTERN,
                                    description="指定编号（可选，默认自动生成） / id; generated when omitted")

    _blank = field_validator("code", "township_id", mode="before")(blank_to_none)


class EstablishOrganization(Command):
    """成立党组织（须经上级党组织批准） / Establish a Party organization with the upper organization's approval."""

    name: str = Field(min_length=1, max_length=80, description="党组织名称 / e.g. 侨港镇海鲜街社区党支部")
    organization_type: OrganizationType = Field(
        description="基层党委 primary_committee / 党总支 general_branch / 党支部 branch / "
                    "联合党支部 joint_branch / 党小组 party_group")
    host_unit_type: HostUnitType = Field(description="依托单位类型 / type of the host unit")
    parent_id: str | None = Field(None, pattern=TOKEN_PATTERN, description="上级党组织编号 / parent organization id")
    township_id: str | None = Field(None, pattern=TOKEN_PATTERN, description="所属乡镇编号 / township id")
    approved_by: str = Field(min_length=1, max_length=40, description="上级党组织批准人/机关 / who approved")
    approved_on: date = Field(description="批准日期 / date of approval")
    organization_id: str | None = Field(None, pattern=TOKEN_PATTERN,
                                        description="指定编号（可选，默认自动生成） / id; generated when omitted")

    _blank = field_validator("parent_id", "township_id", "organization_id", mode="before")(blank_to_none)


class RegisterMember(Command):
    """登记党员（组织关系在一个党支部） / Register a member whose affiliation is held by one branch."""

    name: str = Field(min_length=1, max_length=40, description="姓名 / name, e.g. 张秀玲")
    gender: Gender = Field(description="性别：male/female（亦可填 男/女）")
    birth_date: date | None = Field(None, description="出生日期 / date of birth")
    membership_status: MembershipStatus = Field(
        description="党员类型：full 正式党员 / probationary 预备党员（亦可填中文）")
    joined_on: date = Field(description="入党日期 / date of joining the Party")
    branch_id: str = Field(pattern=TOKEN_PATTERN, description="所在党支部编号 / id of the branch holding the affiliation")
    member_id: str | None = Field(None, pattern=TOKEN_PATTERN,
                                  description="指定编号（可选，默认自动生成） / id; generated when omitted")

    _gender = field_validator("gender", mode="before")(normalize_gender)
    _status = field_validator("membership_status", mode="before")(normalize_status)
    _blank = field_validator("birth_date", "member_id", mode="before")(blank_to_none)


class TransferMember(Command):
    """转接组织关系到另一党支部 / Move a member's affiliation to another branch."""

    member_id: str = Field(pattern=TOKEN_PATTERN, description="党员编号 / the member who moves")
    to_branch_id: str = Field(pattern=TOKEN_PATTERN, description="转入党支部编号 / receiving branch id")
    transferred_on: date = Field(description="转接日期 / date of the transfer")
    reason: str | None = Field(None, max_length=200, description="转接原因（可选） / reason")

    _blank = field_validator("reason", mode="before")(blank_to_none)


class ImportMembers(UploadedFile):
    """批量导入党员 / Register the members of a spreadsheet (CSV or .xlsx): columns 姓名, 性别, 出生日期,
    党员类型, 入党日期, 所在支部 (id or exact name); all rows or none."""


# -- replies --------------------------------------------------------------------------------------
class NewCounty(BaseModel):
    county_code: str = Field(description="6位行政区划代码 / the county's code")
    name: str = Field(description="县（区）名称 / name")


class NewTownship(BaseModel):
    township_id: str = Field(description="乡镇编号 / the township's id")


class NewOrganization(BaseModel):
    organization_id: str = Field(description="党组织编号 / the organization's id")


class NewMember(BaseModel):
    member_id: str = Field(description="党员编号 / the member's id")


class MemberPlacement(BaseModel):
    member_id: str = Field(description="党员编号 / member id")
    branch_id: str = Field(description="现所在党支部 / the branch now holding the member")


class MemberImport(BaseModel):
    import_id: str = Field(description="导入编号（同一文件相同） / the same for the same file")
    imported: int = Field(description="本次登记人数 / members registered now")
    already_imported: int = Field(description="此前已由同一文件登记 / registered by an earlier run of the same file")
    member_ids: list[str] = Field(description="每行党员编号（按行序） / member id of every row, in order")
