"""Commands of 党代表工作室 and their replies: rooms, the delegates stationed in each (进室), the head,
liaison staff, and the receptions and visits recorded there. Shape checks only; rules are in domain.py."""
from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, Field, field_validator, model_validator

from shared.catalog.rooms import ActivityKind, CongressLevel
from services.organizations.contracts import TOKEN_PATTERN, Command, Token, UploadedFile, blank_to_none

LEVEL_ALIASES = {"乡镇": "township", "乡镇党代表": "township", "township": "township",
                 "县": "county", "县级": "county", "县（区）": "county", "区": "county", "县党代表": "county", "区党代表": "county",
                 "county": "county",
                 "市": "city", "市级": "city", "市党代表": "city", "city": "city",
                 "省": "province", "省级": "province", "省党代表": "province", "province": "province",
                 "全国": "national", "全国党代表": "national", "national": "national"}
KIND_ALIASES = {"接待": "reception", "接待群众": "reception", "reception": "reception",
                "走访": "visit", "走访群众": "visit", "visit": "visit"}
LEVEL_NAMES = {"township": "乡镇", "county": "县（区）", "city": "市", "province": "省", "national": "全国"}


def _aliased(aliases: dict[str, str]):
    def normalize(value: Any) -> Any:
        return aliases.get(value.strip().lower(), value) if isinstance(value, str) else value
    return normalize


class _OnRoom(Command):
    room_id: str = Field(pattern=TOKEN_PATTERN, description="工作室编号 / the room")


class EstablishRoom(Command):
    """设立党代表工作室 / Establish a delegates' liaison room."""

    room_id: str | None = Field(None, pattern=TOKEN_PATTERN, description="编号（可选） / id; derived when omitted")
    name: str = Field(min_length=1, max_length=80, description="名称 / e.g. 侨港镇党代表工作室")
    township_id: str | None = Field(None, pattern=TOKEN_PATTERN, description="所在乡镇（县级工作室可空） / township")
    address: str | None = Field(None, max_length=120, description="地址 / address")
    established_on: date = Field(description="设立日期 / date")

    _blank = field_validator("room_id", "township_id", "address", mode="before")(blank_to_none)


class StationDelegate(_OnRoom):
    """党代表进室 / A Party congress delegate joins the room's work."""

    name: str = Field(min_length=1, max_length=40, description="姓名 / name")
    congress_level: CongressLevel = Field(description="代表层级 / township 乡镇, county 县（区）, city 市, province 省, "
                                                      "national 全国")
    member_id: str | None = Field(None, pattern=TOKEN_PATTERN, description="党员编号（本县党员） / member id")
    stationed_on: date = Field(description="进室日期 / date")

    _blank = field_validator("member_id", mode="before")(blank_to_none)
    _level = field_validator("congress_level", mode="before")(_aliased(LEVEL_ALIASES))


class WithdrawDelegate(_OnRoom):
    """党代表出室 / A delegate leaves the room (term ended, moved away…)."""

    delegate_id: str = Field(pattern=TOKEN_PATTERN, description="党代表编号 / the delegate")
    left_on: date = Field(description="日期 / date")
    reason: str = Field(min_length=1, max_length=200, description="原因 / reason")


class AppointRoomHead(_OnRoom):
    """确定工作室负责人 / Appoint one of the stationed delegates as the room's head."""

    delegate_id: str = Field(pattern=TOKEN_PATTERN, description="党代表编号 / the delegate")
    appointed_on: date = Field(description="日期 / date")


class AssignLiaisonStaff(_OnRoom):
    """配备联络员 / Assign a liaison staff member to the room."""

    name: str = Field(min_length=1, max_length=40, description="姓名 / name")
    assigned_on: date = Field(description="日期 / date")


class ReleaseLiaisonStaff(_OnRoom):
    """联络员离任 / A liaison staff member leaves the room."""

    staff_id: str = Field(pattern=TOKEN_PATTERN, description="联络员编号 / the staff member")
    released_on: date = Field(description="日期 / date")


class RecordRoomActivity(_OnRoom):
    """记录接待或走访 / Record a reception at the room or a visit by its delegates."""

    activity_id: str | None = Field(None, pattern=TOKEN_PATTERN, description="编号（可选，重发不重记） / id; a "
                                                                            "resent request with it records once")
    kind: ActivityKind = Field(description="reception 接待 / visit 走访")
    held_on: date = Field(description="日期 / date")
    delegate_ids: list[Token] = Field(min_length=1, max_length=50, description="参加的党代表 / delegates who took part")
    people: int = Field(ge=0, le=100_000, description="群众人次 / people received or visited")
    topics: str = Field(min_length=1, max_length=300, description="主要内容 / what was discussed")
    issues_raised: int = Field(0, ge=0, le=10_000, description="收集意见建议数 / issues raised")
    issues_resolved: int = Field(0, ge=0, le=10_000, description="已办结 / issues resolved")

    _blank = field_validator("activity_id", mode="before")(blank_to_none)
    _kind = field_validator("kind", mode="before")(_aliased(KIND_ALIASES))

    @model_validator(mode="after")
    def _resolved(self) -> "RecordRoomActivity":
        if self.issues_resolved > self.issues_raised:
            raise ValueError("办结数超过收集数 / more issues resolved than raised")
        return self


class ImportRooms(UploadedFile):
    """批量导入党代表工作室 / One row per person: 工作室, 乡镇, 设立日期, 姓名, 身份 (党代表/联络员), 代表层级,
    进室日期 (optional 负责人 是/否); rooms are established from their first row; all rows or none."""


# -- replies --------------------------------------------------------------------------------------
class RoomChange(BaseModel):
    room_id: str = Field(description="工作室编号 / the room")


class DelegateChange(BaseModel):
    room_id: str = Field(description="工作室编号 / the room")
    person_id: str = Field(description="党代表或联络员编号 / the delegate or staff member")


class ActivityRecorded(BaseModel):
    activity_id: str = Field(description="接待/走访编号 / the record")


class RoomImport(BaseModel):
    rooms: int = Field(description="新设工作室 / rooms established now")
    delegates: int = Field(description="新进室党代表 / delegates stationed now")
    liaison_staff: int = Field(description="新配联络员 / liaison staff assigned now")
    unchanged_rows: int = Field(description="已登记的行 / rows already recorded")
