"""Commands of mobile members (流动党员) and service points (流动党员服务站点), and their replies."""
from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field, field_validator, model_validator

from services.organizations.contracts import TOKEN_PATTERN, Command, UploadedFile, blank_to_none


class RecordMemberAway(Command):
    """外出登记 / Record that a member has gone away (before, or instead of, registering them as mobile)."""

    member_id: str = Field(pattern=TOKEN_PATTERN, description="党员编号 / member id")
    away_since: date = Field(description="外出日期 / away since")
    destination: str = Field(min_length=1, max_length=60, description="外出地 / where to, e.g. 广东省深圳市")


class RegisterMobileMember(Command):
    """登记流动党员（外出6个月以上未转组织关系，双重管理） / Register a member away six months or more as
    mobile: destination, contact, and the receiving organization or service point. The sending branch
    keeps the relationship."""

    member_id: str = Field(pattern=TOKEN_PATTERN, description="党员编号 / member id")
    away_since: date = Field(description="外出日期 / away since")
    destination: str = Field(min_length=1, max_length=60, description="流入地 / destination, e.g. 广东省深圳市")
    contact: str = Field(min_length=1, max_length=60, description="联系方式 / how to reach the member")
    receiving_organization: str | None = Field(None, max_length=80, description="流入地党组织 / receiving organization")
    service_point_id: str | None = Field(None, pattern=TOKEN_PATTERN, description="流动党员服务站点 / service point id")
    registered_on: date = Field(description="登记日期 / date registered")

    _blank = field_validator("receiving_organization", "service_point_id", mode="before")(blank_to_none)

    @model_validator(mode="after")
    def _receiving_side(self) -> "RegisterMobileMember":
        if self.receiving_organization is None and self.service_point_id is None:
            raise ValueError("须填写流入地党组织或服务站点 / name the receiving organization or a service point")
        return self


class RecordMemberReturn(Command):
    """流动党员返回 / The member is back; the mobile record closes."""

    member_id: str = Field(pattern=TOKEN_PATTERN, description="党员编号 / member id")
    returned_on: date = Field(description="返回日期 / date back")


class RegisterServicePoint(Command):
    """登记流动党员服务站点 / Register a mobile-member service point of the county."""

    name: str = Field(min_length=1, max_length=80, description="站点名称 / e.g. 银海区驻深圳流动党员服务站")
    location: str = Field(min_length=1, max_length=60, description="所在地 / where, e.g. 广东省深圳市")
    host: str = Field(min_length=1, max_length=80, description="依托单位 / host, e.g. 深圳北海商会")
    contact: str = Field(min_length=1, max_length=60, description="联系人及电话 / contact")
    opened_on: date = Field(description="设立日期 / opened on")
    service_point_id: str | None = Field(None, pattern=TOKEN_PATTERN,
                                         description="指定编号（可选，默认自动生成） / id; generated when omitted")

    _blank = field_validator("service_point_id", mode="before")(blank_to_none)


class CloseServicePoint(Command):
    """撤销服务站点 / Close a service point."""

    service_point_id: str = Field(pattern=TOKEN_PATTERN, description="站点编号 / service point id")
    closed_on: date = Field(description="撤销日期 / closed on")
    reason: str = Field(min_length=1, max_length=200, description="原因 / reason")


class ImportMobileMembers(UploadedFile):
    """导入流动党员台账 / Record the members of a spreadsheet (CSV or .xlsx) as away or, with a 登记日期, as
    mobile: columns 党员 (id or name), 所在支部, 外出日期, 外出地点 and optional 联系方式, 登记日期, 服务站点,
    接收党组织; all rows or none; a departure already recorded is not recorded again."""


class ImportServicePoints(UploadedFile):
    """导入流动党员服务站点 / Register the service points of a spreadsheet (CSV or .xlsx): columns 站点名称,
    所在地, 依托单位, 联系人, 设立日期; all rows or none; a row already registered is not registered twice."""


# -- replies --------------------------------------------------------------------------------------
class MobileStatus(BaseModel):
    member_id: str = Field(description="党员编号 / member id")
    status: str = Field(description="away 外出未登记 / mobile 流动党员 / returned 已返回")


class NewServicePoint(BaseModel):
    service_point_id: str = Field(description="站点编号 / the service point's id")


class ServicePointImport(BaseModel):
    imported: int = Field(description="本次登记站点数 / service points registered now")
    already_registered: int = Field(description="此前已登记 / already registered before")
    service_point_ids: list[str] = Field(description="每行站点编号（按行序） / id of every row, in order")


class MobileImport(BaseModel):
    away: int = Field(description="本次外出登记 / members recorded away now")
    registered: int = Field(description="本次登记为流动党员 / members registered as mobile now")
    already_imported: int = Field(description="此前已登记 / rows whose departure (and registration) was recorded before")
