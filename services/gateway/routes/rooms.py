"""党代表工作室 (delegates' liaison rooms): rooms, the delegates stationed in each, heads, liaison staff,
receptions and visits, the county's figures, the import and the registry → the organizations service."""
# No `from __future__ import annotations`: the route factory annotates with its arguments.
from typing import Annotated, Any

from fastapi import APIRouter, File, Header, Path, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel

from services.gateway import bodies
from services.gateway.auth import TOKEN_PATTERN
from services.gateway.edge import ReadEdge, WriteEdge, written
from services.gateway.registry_imports import ACCEPT_DOC, add_template_route, run_import
from services.gateway.files import XLSX_RESPONSES, xlsx_download
from services.gateway.params import IdQuery, YearQuery
from services.gateway.problems import PROBLEM_RESPONSES
from services.organizations.contracts import body_of
from services.organizations.rooms.commands import (ActivityRecorded, AppointRoomHead, AssignLiaisonStaff,
                                                   DelegateChange, EstablishRoom, RecordRoomActivity,
                                                   ReleaseLiaisonStaff, RoomChange, RoomImport, StationDelegate,
                                                   WithdrawDelegate)
from services.organizations.rooms.queries import ActivityList, RoomFigures, RoomList

SERVICE = "organizations"
router = APIRouter(prefix="/api/v1/counties/{county}", tags=["rooms"], responses=PROBLEM_RESPONSES)



@router.post("/rooms", status_code=201, response_model=written(RoomChange),
             summary="设立党代表工作室 / establish a delegates' liaison room")
async def establish_room(body: EstablishRoom, edge: WriteEdge) -> dict[str, Any]:
    return await edge.write(SERVICE, "establish_room", body.model_dump(mode="json"))


@router.get("/rooms", response_model=RoomList, summary="党代表工作室 / rooms, delegates, heads, liaison staff")
async def list_rooms(edge: ReadEdge, township_id: IdQuery = None) -> Any:
    return await edge.read(SERVICE, "list_rooms", {"township_id": township_id})


@router.post("/rooms/import", status_code=201, response_model=written(RoomImport),
             summary="导入党代表工作室（CSV/Excel） / import rooms with their delegates and liaison staff")
async def import_rooms(edge: WriteEdge,
                       file: Annotated[UploadFile, File(description=".csv 或 .xlsx，≤10 MB")],
                       accept: Annotated[str | None, Header(description=ACCEPT_DOC)] = None) -> Any:
    """One row per person: 工作室, 乡镇, 设立日期, 姓名, 身份 (党代表/联络员), 代表层级, 进室日期, 负责人 (是/否).
    All or nothing; the exported registry imports again unchanged."""
    return await run_import(edge, "import_rooms", file, accept, "rooms")


add_template_route(router, "/rooms/import/template", "rooms")


@router.get("/rooms.xlsx", response_class=Response, responses=XLSX_RESPONSES,
            summary="导出党代表工作室台账（Excel） / download rooms, people and a year's receptions and visits")
async def export_rooms(edge: ReadEdge, year: YearQuery, room_id: IdQuery = None) -> Response:
    return await xlsx_download(edge, SERVICE, "rooms_export", {"year": year, "room_id": room_id},
                               f"rooms_{edge.county}_{year}.xlsx")


@router.get("/room-figures", response_model=RoomFigures,
            summary="党代表工作室统计 / rooms, delegates, liaison staff, receptions and visits of a year")
async def room_figures(edge: ReadEdge, year: YearQuery) -> Any:
    return await edge.read(SERVICE, "room_figures", {"year": year})


@router.get("/room-activities", response_model=ActivityList, summary="接待与走访 / a year's receptions and visits")
async def room_activities(edge: ReadEdge, year: YearQuery, room_id: IdQuery = None) -> Any:
    return await edge.read(SERVICE, "list_room_activities", {"year": year, "room_id": room_id})


def _room_command(segment: str, model: type[BaseModel], command: str, reply: type[BaseModel], summary: str) -> None:
    body_model = body_of(model, "room_id")

    async def endpoint(body: body_model, edge: WriteEdge,  # type: ignore[valid-type]
                       room_id: Annotated[str, Path(pattern=TOKEN_PATTERN, description="工作室编号 / room")]
                       ) -> dict[str, Any]:
        data = bodies.command(model, {**body.model_dump(exclude_unset=True), "room_id": room_id},
                              {"room_id": "path.room_id"})
        return await edge.write(SERVICE, command, data)

    router.add_api_route(f"/rooms/{{room_id}}/{segment}", endpoint, methods=["POST"], name=command,
                         response_model=written(reply), summary=summary, description=model.__doc__)


for _segment, _model, _command, _reply, _summary in [
    ("delegates", StationDelegate, "station_delegate", DelegateChange, "党代表进室 / station a delegate"),
    ("delegate-withdrawal", WithdrawDelegate, "withdraw_delegate", DelegateChange, "党代表出室 / a delegate leaves"),
    ("head", AppointRoomHead, "appoint_room_head", DelegateChange, "工作室负责人 / appoint the room's head"),
    ("liaison-staff", AssignLiaisonStaff, "assign_liaison_staff", DelegateChange, "配备联络员 / assign liaison staff"),
    ("liaison-staff-release", ReleaseLiaisonStaff, "release_liaison_staff", DelegateChange,
     "联络员离任 / liaison staff leaves"),
    ("activities", RecordRoomActivity, "record_room_activity", ActivityRecorded,
     "记录接待或走访 / record a reception or visit"),
]:
    _room_command(_segment, _model, _command, _reply, _summary)
