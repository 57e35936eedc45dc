"""Counties, townships, organizations and members → the organizations service."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Path, Query, Request, Response, UploadFile

from services.gateway.auth import TOKEN_PATTERN, platform_admin
from services.gateway.edge import ReadEdge, WriteEdge, make_edge
from services.gateway.files import upload_data
from services.gateway.problems import PROBLEM_RESPONSES
from services.organizations.commands import (AddCounty, AddTownship, EstablishOrganization, RegisterMember,
                                             TransferMember)
from shared.auth import Actor

SERVICE = "organizations"

router = APIRouter(prefix="/api/v1", tags=["organizations"], responses=PROBLEM_RESPONSES)
IdPath = Annotated[str, Path(pattern=TOKEN_PATTERN)]
IdQuery = Annotated[str | None, Query(pattern=TOKEN_PATTERN)]


def _body(cmd: Any) -> dict[str, Any]:
    return cmd.model_dump(mode="json")


@router.post("/counties", status_code=201, summary="开通县（区） / add a county (platform_admin)")
async def add_county(body: AddCounty, request: Request, response: Response,
                     actor: Annotated[Actor, Depends(platform_admin)]) -> dict[str, Any]:
    # The new county's own subject: its stream is created by this command.
    return await make_edge(request, response, actor, body.county_code).write(SERVICE, "add_county", _body(body))


@router.post("/counties/{county}/townships", status_code=201, summary="增加乡镇 / add a township")
async def add_township(body: AddTownship, edge: WriteEdge) -> dict[str, Any]:
    return await edge.write(SERVICE, "add_township", _body(body))


@router.get("/counties/{county}/townships", summary="乡镇列表 / list townships")
async def list_townships(edge: ReadEdge) -> Any:
    return await edge.read(SERVICE, "list_townships", {})


@router.post("/counties/{county}/organizations", status_code=201, summary="成立党组织 / establish an organization")
async def establish_organization(body: EstablishOrganization, edge: WriteEdge) -> dict[str, Any]:
    return await edge.write(SERVICE, "establish_organization", _body(body))


@router.get("/counties/{county}/organizations", summary="党组织列表 / list organizations")
async def list_organizations(edge: ReadEdge, township_id: IdQuery = None) -> Any:
    return await edge.read(SERVICE, "list_organizations", {"township_id": township_id})


@router.post("/counties/{county}/members", status_code=201, summary="登记党员 / register a member")
async def register_member(body: RegisterMember, edge: WriteEdge) -> dict[str, Any]:
    return await edge.write(SERVICE, "register_member", _body(body))


@router.get("/counties/{county}/members", summary="党员列表 / list members")
async def list_members(edge: ReadEdge, branch_id: IdQuery = None,
                       limit: Annotated[int, Query(ge=1, le=500)] = 100,
                       offset: Annotated[int, Query(ge=0)] = 0) -> Any:
    return await edge.read(SERVICE, "list_members", {"branch_id": branch_id, "limit": limit, "offset": offset})


@router.post("/counties/{county}/members/import", status_code=201,
             summary="导入党员（CSV/Excel） / import members from a .csv or .xlsx file (≤10 MB)")
async def import_members(edge: WriteEdge,
                         file: Annotated[UploadFile, File(description=".csv 或 .xlsx，≤10 MB")]) -> dict[str, Any]:
    """All or nothing: a bad row refuses the import with one error entry per bad row/field."""
    return await edge.write(SERVICE, "import_members", await upload_data(file))


@router.get("/counties/{county}/members/{member_id}", summary="党员详情 / one member")
async def get_member(edge: ReadEdge, member_id: IdPath) -> Any:
    return await edge.read(SERVICE, "get_member", {"member_id": member_id})


@router.post("/counties/{county}/members/{member_id}/transfer", summary="转接组织关系 / transfer a member")
async def transfer_member(body: TransferMember, edge: WriteEdge, member_id: IdPath) -> dict[str, Any]:
    return await edge.write(SERVICE, "transfer_member", {"member_id": member_id, **_body(body)})
