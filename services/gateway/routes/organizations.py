"""Counties, townships, organizations and members → the organizations service (its registry)."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Query, Request, Response, UploadFile

from services.gateway import bodies
from services.gateway.auth import platform_admin
from services.gateway.edge import ReadEdge, WriteEdge, make_edge, written
from services.gateway.files import JOB_RESPONSES, import_upload
from services.gateway.params import IdPath, IdQuery, PreferHeader
from services.gateway.problems import PROBLEM_RESPONSES
from services.organizations.contracts import body_of
from services.organizations.registry.commands import (AddCounty, AddTownship, EstablishOrganization, MemberImport,
                                                      MemberPlacement, NewCounty, NewMember, NewOrganization,
                                                      NewTownship, RegisterMember, TransferMember)
from services.organizations.registry.queries import (MAX_OFFSET, MemberEntry, MemberList, OrganizationList,
                                                     TownshipList)
from shared.auth import Actor

SERVICE = "organizations"

router = APIRouter(prefix="/api/v1", tags=["organizations"], responses=PROBLEM_RESPONSES)
MemberTransfer = body_of(TransferMember, "member_id")


def _body(cmd: Any) -> dict[str, Any]:
    return cmd.model_dump(mode="json")


@router.post("/counties", status_code=201, response_model=written(NewCounty),
             summary="开通县（区） / add a county (platform_admin)")
async def add_county(body: AddCounty, request: Request, response: Response,
                     actor: Annotated[Actor, Depends(platform_admin)]) -> dict[str, Any]:
    # The new county's own subject: its stream is created by this command.
    return await make_edge(request, response, actor, body.county_code).write(SERVICE, "add_county", _body(body))


@router.post("/counties/{county}/townships", status_code=201, response_model=written(NewTownship),
             summary="增加乡镇 / add a township")
async def add_township(body: AddTownship, edge: WriteEdge) -> dict[str, Any]:
    return await edge.write(SERVICE, "add_township", _body(body))


@router.get("/counties/{county}/townships", response_model=TownshipList, summary="乡镇列表 / list townships")
async def list_townships(edge: ReadEdge) -> Any:
    return await edge.read(SERVICE, "list_townships", {})


@router.post("/counties/{county}/organizations", status_code=201, response_model=written(NewOrganization),
             summary="成立党组织 / establish an organization")
async def establish_organization(body: EstablishOrganization, edge: WriteEdge) -> dict[str, Any]:
    return await edge.write(SERVICE, "establish_organization", _body(body))


@router.get("/counties/{county}/organizations", response_model=OrganizationList,
            summary="党组织列表 / list organizations")
async def list_organizations(edge: ReadEdge, township_id: IdQuery = None) -> Any:
    return await edge.read(SERVICE, "list_organizations", {"township_id": township_id})


@router.post("/counties/{county}/members", status_code=201, response_model=written(NewMember),
             summary="登记党员 / register a member")
async def register_member(body: RegisterMember, edge: WriteEdge) -> dict[str, Any]:
    return await edge.write(SERVICE, "register_member", _body(body))


@router.get("/counties/{county}/members", response_model=MemberList, summary="党员列表 / list members")
async def list_members(edge: ReadEdge, branch_id: IdQuery = None,
                       limit: Annotated[int, Query(ge=1, le=500)] = 100,
                       offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0) -> Any:
    return await edge.read(SERVICE, "list_members", {"branch_id": branch_id, "limit": limit, "offset": offset})


@router.post("/counties/{county}/members/import", status_code=201, response_model=written(MemberImport),
             responses=JOB_RESPONSES, summary="导入党员（CSV/Excel） / import members from a .csv or .xlsx file (≤10 MB)")
async def import_members(edge: WriteEdge, file: Annotated[UploadFile, File(description=".csv 或 .xlsx，≤10 MB")],
                         prefer: PreferHeader = None) -> Any:
    """All or nothing: a bad row refuses the import with one error entry per bad row/field.
    Columns: 姓名, 性别 (男/女), 出生日期, 党员类型 (正式党员/预备党员), 入党日期, 所在支部 (the branch's id
    or exact name). Importing the same file again registers nothing twice. A file over 1 MB (or
    `Prefer: respond-async`) is answered 202 with a job to poll."""
    return await import_upload(edge, SERVICE, "import_members", file, prefer)


@router.get("/counties/{county}/members/{member_id}", response_model=MemberEntry, summary="党员详情 / one member")
async def get_member(edge: ReadEdge, member_id: IdPath) -> Any:
    return await edge.read(SERVICE, "get_member", {"member_id": member_id})


@router.post("/counties/{county}/members/{member_id}/transfer", response_model=written(MemberPlacement),
             summary="转接组织关系 / transfer a member")
async def transfer_member(body: MemberTransfer, edge: WriteEdge, member_id: IdPath) -> dict[str, Any]:  # type: ignore[valid-type]
    data = bodies.command(TransferMember, {**body.model_dump(exclude_unset=True), "member_id": member_id},
                          {"member_id": "path.member_id"})
    return await edge.write(SERVICE, "transfer_member", data)
