"""两新组织 (non-public enterprises and social organizations): the unit registry, headcounts, closing,
instructors, 工青妇 and founding their Party organizations → the organizations service.

The unit a command acts on is named by the path: the body is the command without `enterprise_id`, and
the command is validated again with the path's id merged. Every operation declares the service's
reply model."""
# No `from __future__ import annotations`: the route factory annotates with its arguments.
from typing import Annotated, Any

from fastapi import APIRouter, File, Path, UploadFile
from pydantic import BaseModel

from services.gateway import bodies
from services.gateway.auth import TOKEN_PATTERN
from services.gateway.edge import ReadEdge, WriteEdge, written
from services.gateway.files import JOB_RESPONSES, import_upload
from services.gateway.params import IdQuery, PreferHeader
from services.gateway.problems import PROBLEM_RESPONSES
from services.organizations.enterprises.commands import (AssignInstructor, BranchFounded, CloseEnterprise,
                                                         EnterpriseChange, EnterpriseImport, FoundEnterpriseBranch,
                                                         NewEnterprise, RecordMassOrganization, RegisterEnterprise,
                                                         ReopenEnterprise, UpdateHeadcount, WithdrawInstructor)
from services.organizations.contracts import body_of
from services.organizations.enterprises.queries import EnterpriseList

SERVICE = "organizations"
router = APIRouter(prefix="/api/v1/counties/{county}", tags=["enterprises"], responses=PROBLEM_RESPONSES)

EnterprisePath = Annotated[str, Path(pattern=TOKEN_PATTERN, description="单位编号 / unit id")]


@router.post("/enterprises", status_code=201, response_model=written(NewEnterprise), summary="登记两新组织 / register an enterprise or social organization")
async def register_enterprise(body: RegisterEnterprise, edge: WriteEdge) -> dict[str, Any]:
    """The unified social credit code is checked (GB 32100); a wrong one is refused with the reason."""
    return await edge.write(SERVICE, "register_enterprise", body.model_dump(mode="json"))


@router.get("/enterprises", response_model=EnterpriseList, summary="两新组织台账 / list units")
async def list_enterprises(edge: ReadEdge, township_id: IdQuery = None) -> Any:
    return await edge.read(SERVICE, "list_enterprises", {"township_id": township_id})


@router.post("/enterprises/import", status_code=201, response_model=written(EnterpriseImport),
             responses=JOB_RESPONSES, summary="导入两新组织（CSV/Excel） / import units from a .csv or .xlsx file (≤10 MB)")
async def import_enterprises(edge: WriteEdge, file: Annotated[UploadFile, File(description=".csv 或 .xlsx，≤10 MB")],
                             prefer: PreferHeader = None) -> Any:
    """All or nothing: a bad row refuses the import with one error entry per bad row/field.
    Columns: 统一社会信用代码, 单位名称, 类型, 乡镇, 行业, 从业人员, 正式党员, 登记日期 (and optional
    预备党员, 经营状态, 固定场所, 规模以上). Importing the same units again changes nothing. A file over 1 MB
    (or `Prefer: respond-async`) is answered 202 with a job to poll."""
    return await import_upload(edge, SERVICE, "import_enterprises", file, prefer)


def _enterprise_command(segment: str, model: type[BaseModel], command: str, summary: str) -> None:
    body_model = body_of(model, "enterprise_id")

    async def endpoint(body: body_model, edge: WriteEdge,  # type: ignore[valid-type]
                       enterprise_id: EnterprisePath) -> dict[str, Any]:
        data = bodies.command(model, {**body.model_dump(exclude_unset=True), "enterprise_id": enterprise_id},
                              {"enterprise_id": "path.enterprise_id"})
        return await edge.write(SERVICE, command, data)

    router.add_api_route(f"/enterprises/{{enterprise_id}}/{segment}", endpoint, methods=["POST"], name=command,
                         response_model=written(EnterpriseChange), summary=summary, description=model.__doc__)


for _segment, _model, _command, _summary in [
    ("headcount", UpdateHeadcount, "update_headcount", "更新从业人员与党员人数 / update headcounts"),
    ("closure", CloseEnterprise, "close_enterprise", "停产/注销 / the unit stopped or was deregistered"),
    ("reopening", ReopenEnterprise, "reopen_enterprise", "恢复经营 / the unit operates again"),
    ("instructor", AssignInstructor, "assign_instructor", "选派党建指导员/联络员 / assign an instructor or liaison"),
    ("instructor-withdrawal", WithdrawInstructor, "withdraw_instructor", "撤回党建指导员/联络员 / withdraw them"),
    ("mass-organizations", RecordMassOrganization, "record_mass_organization",
     "建立工会/共青团/妇联 / record a 工会, 共青团 or 妇联"),
]:
    _enterprise_command(_segment, _model, _command, _summary)


@router.post("/enterprise-branches", status_code=201, response_model=written(BranchFounded),
             summary="两新组织组建党组织 / found a Party organization for one unit or several")
async def found_enterprise_branch(body: FoundEnterpriseBranch, edge: WriteEdge) -> dict[str, Any]:
    """单独组建 needs ≥3 full members (rule table); 联合组建 etc. cover several units. The reply's
    `warnings` carry what "generally" rules said (e.g. a joint branch over more than 5 units)."""
    return await edge.write(SERVICE, "found_enterprise_branch", body.model_dump(mode="json"))
