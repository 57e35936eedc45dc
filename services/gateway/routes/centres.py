"""党群服务中心 (Party-mass service centres): the registry and its Excel import/export, facilities,
inspections, 挂牌, upgrade plans, the county's standards per level and coverage as of a date → the
organizations service. The centre a command acts on is named by the path."""
# No `from __future__ import annotations`: the route factory annotates with its arguments.
from typing import Annotated, Any

from fastapi import APIRouter, File, Header, Path, Query, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel

from services.gateway import bodies
from services.gateway.auth import TOKEN_PATTERN
from services.gateway.edge import ReadEdge, WriteEdge, written
from services.gateway.registry_imports import ACCEPT_DOC, add_template_route, run_import
from services.gateway.files import XLSX_RESPONSES, xlsx_download
from services.gateway.params import AsOfQuery, IdQuery
from services.gateway.problems import PROBLEM_RESPONSES
from services.organizations.centres.commands import (AdoptCentreStandards, CentreChange, CentreImport, CloseCentre, InspectCentre,
                                                     InspectionResult, NewCentre, PlanCentreUpgrade, PlaqueCentre,
                                                     RegisterCentre, ReportUpgradeProgress, StandardsEffective,
                                                     UpdateCentreFacilities)
from services.organizations.centres.queries import CentreCoverage, CentreList, StandardsVersions, UpgradeList
from services.organizations.contracts import body_of

SERVICE = "organizations"
router = APIRouter(prefix="/api/v1/counties/{county}", tags=["centres"], responses=PROBLEM_RESPONSES)

CentrePath = Annotated[str, Path(pattern=TOKEN_PATTERN, description="中心编号 / centre id")]
LevelQuery = Annotated[str | None, Query(pattern=r"^[a-z]{1,12}$", description="层级 / level, e.g. village")]


def _as_of(as_of: Any) -> dict[str, Any]:
    return {"as_of": as_of.isoformat() if as_of else None}


@router.post("/centres", status_code=201, response_model=written(NewCentre),
             summary="登记党群服务中心（站） / register a Party-mass service centre or station")
async def register_centre(body: RegisterCentre, edge: WriteEdge) -> dict[str, Any]:
    """A village or community centre names the Party organization of the place it serves
    (`organization_id`); every level but the county's names its township."""
    return await edge.write(SERVICE, "register_centre", body.model_dump(mode="json"))


@router.get("/centres", response_model=CentreList, summary="党群服务中心台账 / list centres")
async def list_centres(edge: ReadEdge, township_id: IdQuery = None, level: LevelQuery = None) -> Any:
    return await edge.read(SERVICE, "list_centres", {"township_id": township_id, "level": level})


@router.post("/centres/import", status_code=201, response_model=written(CentreImport),
             summary="导入党群服务中心（CSV/Excel） / import centres from a .csv or .xlsx file (≤10 MB)")
async def import_centres(edge: WriteEdge,
                         file: Annotated[UploadFile, File(description=".csv 或 .xlsx，≤10 MB")],
                         accept: Annotated[str | None, Header(description=ACCEPT_DOC)] = None) -> Any:
    """All or nothing. Columns 名称, 层级, 乡镇, 面积, 建成日期 (optional 类型, 村社区党组织, 功能区, 服务窗口,
    标识, 夜间可视, 地址); the exported registry imports unchanged. Importing the same rows again changes nothing."""
    return await run_import(edge, "import_centres", file, accept, "centres")


add_template_route(router, "/centres/import/template", "centres")


@router.get("/centres.xlsx", response_class=Response, responses=XLSX_RESPONSES,
            summary="导出党群服务中心台账（Excel） / download the centre registry as .xlsx")
async def export_centres(edge: ReadEdge, township_id: IdQuery = None, level: LevelQuery = None) -> Response:
    return await xlsx_download(edge, SERVICE, "centres_export", {"township_id": township_id, "level": level},
                               f"centres_{edge.county}.xlsx")


@router.get("/centre-coverage", response_model=CentreCoverage,
            summary="党群服务中心达标与覆盖 / centres to standard and coverage by level, as of a date")
async def centre_coverage(edge: ReadEdge, as_of: AsOfQuery = None) -> Any:
    """达标率 = centres to standard ÷ centres; 覆盖率 = the county, townships, villages and communities served
    by a centre to standard ÷ all of them; `shortfall` lists the places not covered and why."""
    return await edge.read(SERVICE, "centre_coverage", _as_of(as_of))


@router.get("/centre-standards", response_model=StandardsVersions,
            summary="党群服务中心建设标准 / the county's standards per level")
async def centre_standards(edge: ReadEdge, as_of: AsOfQuery = None) -> Any:
    return await edge.read(SERVICE, "centre_standards", _as_of(as_of))


@router.put("/centre-standards", response_model=written(StandardsEffective),
            summary="采用党群服务中心建设标准 / adopt the standards per level from a date")
async def adopt_centre_standards(body: AdoptCentreStandards, edge: WriteEdge) -> dict[str, Any]:
    """The whole table: every level once (area, zones, windows, signage, on-site items) and the coverage target."""
    return await edge.write(SERVICE, "adopt_centre_standards", body.model_dump(mode="json"))


@router.get("/centre-upgrades", response_model=UpgradeList,
            summary="提升改造计划及进度 / a year's upgrade plans and their progress")
async def centre_upgrades(edge: ReadEdge, year: Annotated[int, Query(ge=2000, le=2100)],
                          township_id: IdQuery = None) -> Any:
    return await edge.read(SERVICE, "list_centre_upgrades", {"year": year, "township_id": township_id})


def _centre_command(segment: str, model: type[BaseModel], command: str, reply: type[BaseModel], summary: str) -> None:
    body_model = body_of(model, "centre_id")

    async def endpoint(body: body_model, edge: WriteEdge,  # type: ignore[valid-type]
                       centre_id: CentrePath) -> dict[str, Any]:
        data = bodies.command(model, {**body.model_dump(exclude_unset=True), "centre_id": centre_id},
                              {"centre_id": "path.centre_id"})
        return await edge.write(SERVICE, command, data)

    router.add_api_route(f"/centres/{{centre_id}}/{segment}", endpoint, methods=["POST"], name=command,
                         response_model=written(reply), summary=summary, description=model.__doc__)


for _segment, _model, _command, _reply, _summary in [
    ("facilities", UpdateCentreFacilities, "update_centre_facilities", CentreChange,
     "更新面积、功能区、标识、窗口 / record the centre's facilities"),
    ("inspections", InspectCentre, "inspect_centre", InspectionResult, "达标核查 / inspect against the standards"),
    ("plaque", PlaqueCentre, "plaque_centre", CentreChange, "挂牌 / plaque a centre to standard"),
    ("upgrades", PlanCentreUpgrade, "plan_centre_upgrade", CentreChange, "提升改造计划 / plan a year's upgrade"),
    ("upgrade-progress", ReportUpgradeProgress, "report_upgrade_progress", CentreChange,
     "提升改造进度 / report a plan's progress"),
    ("closure", CloseCentre, "close_centre", CentreChange, "撤销（关闭）中心 / close a centre"),
]:
    _centre_command(_segment, _model, _command, _reply, _summary)
