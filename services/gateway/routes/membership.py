"""党籍异动 and mobile members (流动党员) with their service points → the organizations service.

The member or service point a command acts on is named by the path: the body is the command without
that id, validated again with the path's id merged, so the service gets exactly its command."""
# No `from __future__ import annotations`: the route factory annotates with its arguments, which
# FastAPI must see as classes.
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Header, Path, Query, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel

from services.gateway import bodies
from services.gateway.auth import TOKEN_PATTERN
from services.gateway.edge import ReadEdge, WriteEdge, written
from services.gateway.registry_imports import ACCEPT_DOC, add_template_route, run_import
from services.gateway.files import XLSX_RESPONSES, xlsx_download
from services.gateway.params import AsOfQuery, HistoryYearQuery, IdQuery
from services.gateway.problems import PROBLEM_RESPONSES
from services.organizations.contracts import body_of
from services.organizations.membership.commands import ChangeStanding, StandingChanged
from services.organizations.membership.queries import StandingChangeList
from services.organizations.mobile import commands as mc
from services.organizations.mobile.queries import MobileFigures, MobileMemberList, ServicePointList

SERVICE = "organizations"
router = APIRouter(prefix="/api/v1/counties/{county}", responses=PROBLEM_RESPONSES)

MemberPath = Annotated[str, Path(pattern=TOKEN_PATTERN, description="党员编号 / member id")]
PointPath = Annotated[str, Path(pattern=TOKEN_PATTERN, description="服务站点编号 / service point id")]
StateQuery = Annotated[Literal["away", "mobile", "returned"] | None,
                      Query(description="away 外出未登记 / mobile 流动党员 / returned 已返回")]
DestinationQuery = Annotated[str | None, Query(max_length=60, description="流入地 / destination")]


def _member_command(segment: str, model: type[BaseModel], command: str, reply: type[BaseModel], summary: str,
                    tag: str) -> None:
    body_model = body_of(model, "member_id")

    async def endpoint(body: body_model, edge: WriteEdge, member_id: MemberPath) -> dict[str, Any]:  # type: ignore[valid-type]
        data = bodies.command(model, {**body.model_dump(exclude_unset=True), "member_id": member_id},
                              {"member_id": "path.member_id"})
        return await edge.write(SERVICE, command, data)

    router.add_api_route(f"/members/{{member_id}}/{segment}", endpoint, methods=["POST"], name=command,
                         response_model=written(reply), summary=summary, description=model.__doc__, tags=[tag])


for _args in [
    ("standing-changes", ChangeStanding, "change_standing", StandingChanged,
     "党籍异动 / record a change of standing (deceased, left, expelled, suspended, restored)", "membership"),
    ("away", mc.RecordMemberAway, "record_member_away", mc.MobileStatus, "外出登记 / record a member as away",
     "mobile members"),
    ("mobile", mc.RegisterMobileMember, "register_mobile_member", mc.MobileStatus,
     "登记流动党员 / register a member away ≥6 months as mobile (双重管理)", "mobile members"),
    ("return", mc.RecordMemberReturn, "record_member_return", mc.MobileStatus,
     "流动党员返回 / record the member's return", "mobile members"),
]:
    _member_command(*_args)

PointClosure = body_of(mc.CloseServicePoint, "service_point_id")


@router.post("/mobile-service-points/{service_point_id}/closure", response_model=written(mc.NewServicePoint),
             tags=["mobile members"], summary="撤销服务站点 / close a service point")
async def close_service_point(body: PointClosure, edge: WriteEdge,  # type: ignore[valid-type]
                              service_point_id: PointPath) -> dict[str, Any]:
    data = bodies.command(mc.CloseServicePoint, {**body.model_dump(exclude_unset=True),
                                                 "service_point_id": service_point_id},
                          {"service_point_id": "path.service_point_id"})
    return await edge.write(SERVICE, "close_service_point", data)


@router.get("/standing-changes", response_model=StandingChangeList, tags=["membership"],
            summary="党籍异动台账 / standing changes with totals per kind")
async def standing_changes(edge: ReadEdge, branch_id: IdQuery = None, township_id: IdQuery = None,
                           year: HistoryYearQuery = None) -> Any:
    return await edge.read(SERVICE, "standing_changes", {"branch_id": branch_id, "township_id": township_id,
                                                         "year": year})


@router.get("/standing-changes.xlsx", response_class=Response, responses=XLSX_RESPONSES, tags=["membership"],
            summary="导出党籍异动台账（Excel） / download the standing changes as .xlsx")
async def standing_changes_export(edge: ReadEdge, branch_id: IdQuery = None, township_id: IdQuery = None,
                                  year: HistoryYearQuery = None) -> Response:
    return await xlsx_download(edge, SERVICE, "standing_changes_export",
                               {"branch_id": branch_id, "township_id": township_id, "year": year},
                               f"standing-changes_{edge.county}.xlsx")


def _mobile_filter(state, destination, service_point_id, branch_id, township_id) -> dict[str, Any]:
    return {"status": state, "destination": destination, "service_point_id": service_point_id,
            "branch_id": branch_id, "township_id": township_id}


@router.get("/mobile-members", response_model=MobileMemberList, tags=["mobile members"],
            summary="流动党员台账 / mobile members (and members away, and back)")
async def mobile_members(edge: ReadEdge, state: StateQuery = None, destination: DestinationQuery = None,
                         service_point_id: IdQuery = None, branch_id: IdQuery = None,
                         township_id: IdQuery = None) -> Any:
    return await edge.read(SERVICE, "list_mobile_members",
                           _mobile_filter(state, destination, service_point_id, branch_id, township_id))


@router.get("/mobile-members.xlsx", response_class=Response, responses=XLSX_RESPONSES, tags=["mobile members"],
            summary="导出流动党员台账（Excel） / download the mobile members as .xlsx")
async def mobile_members_export(edge: ReadEdge, state: StateQuery = None, destination: DestinationQuery = None,
                                service_point_id: IdQuery = None, branch_id: IdQuery = None,
                                township_id: IdQuery = None) -> Response:
    return await xlsx_download(edge, SERVICE, "mobile_members_export",
                               _mobile_filter(state, destination, service_point_id, branch_id, township_id),
                               f"mobile-members_{edge.county}.xlsx")


@router.get("/mobile-figures", response_model=MobileFigures, tags=["mobile members"],
            summary="流动党员统计 / by destination and service point; away but not registered")
async def mobile_figures(edge: ReadEdge, as_of: AsOfQuery = None) -> Any:
    """As of a business date: each member's record as it stood then (departures, registrations and returns
    dated later left out), with the rule table's months in force on that date."""
    return await edge.read(SERVICE, "mobile_figures", {"as_of": as_of.isoformat() if as_of else None})


@router.post("/mobile-service-points", status_code=201, response_model=written(mc.NewServicePoint),
             tags=["mobile members"], summary="登记流动党员服务站点 / register a service point")
async def register_service_point(body: mc.RegisterServicePoint, edge: WriteEdge) -> dict[str, Any]:
    return await edge.write(SERVICE, "register_service_point", body.model_dump(mode="json"))


@router.post("/mobile-members/import", status_code=201, response_model=written(mc.MobileImport),
             tags=["mobile members"],
             summary="导入流动党员台账（CSV/Excel） / record members away or mobile from a .csv or .xlsx file")
async def import_mobile_members(edge: WriteEdge,
                                file: Annotated[UploadFile, File(description=".csv 或 .xlsx，≤10 MB")],
                                accept: Annotated[str | None, Header(description=ACCEPT_DOC)] = None) -> Any:
    """Columns 党员 (id, or name in the branch), 所在支部, 外出日期, 外出地点; with 登记日期 (and 联系方式, 服务站点 or
    接收党组织) the member is registered as mobile, checked as the single command is (six months away, good
    standing, an open service point). All or nothing; a departure already recorded is not recorded again."""
    return await run_import(edge, "import_mobile_members", file, accept, "mobile-members")


add_template_route(router, "/mobile-members/import/template", "mobile-members", ["mobile members"])


@router.post("/mobile-service-points/import", status_code=201, response_model=written(mc.ServicePointImport),
             tags=["mobile members"], summary="导入服务站点（CSV/Excel） / import service points (≤10 MB)")
async def import_service_points(edge: WriteEdge,
                                file: Annotated[UploadFile, File(description=".csv 或 .xlsx，≤10 MB")],
                                accept: Annotated[str | None, Header(description=ACCEPT_DOC)] = None) -> Any:
    """Columns 站点名称, 所在地, 依托单位, 联系人, 设立日期; all rows or none; the same file again registers
    nothing twice."""
    return await run_import(edge, "import_service_points", file, accept, "mobile-service-points")


add_template_route(router, "/mobile-service-points/import/template", "mobile-service-points", ["mobile members"])


@router.get("/mobile-service-points", response_model=ServicePointList, tags=["mobile members"],
            summary="流动党员服务站点 / the county's service points")
async def service_points(edge: ReadEdge) -> Any:
    return await edge.read(SERVICE, "list_service_points", {})


@router.get("/mobile-service-points.xlsx", response_class=Response, responses=XLSX_RESPONSES, tags=["mobile members"],
            summary="导出服务站点（Excel） / download the service points as .xlsx")
async def service_points_export(edge: ReadEdge) -> Response:
    return await xlsx_download(edge, SERVICE, "service_points_export", {}, f"service-points_{edge.county}.xlsx")
