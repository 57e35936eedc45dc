"""Development of members (发展党员) and probation (预备期) → the organizations service.

The applicant or member a step acts on is named by the path: the body is the command without that id,
and the command is validated again with the path's id merged, so the service gets exactly its command.
"""
# No `from __future__ import annotations`: the route factory annotates with its arguments, which
# FastAPI must see as classes.
from typing import Annotated, Any

from fastapi import APIRouter, File, Header, Path, Query, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel

from services.gateway import bodies
from services.gateway.auth import TOKEN_PATTERN
from services.gateway.edge import ReadEdge, WriteEdge, written
from services.gateway.files import XLSX_RESPONSES, xlsx_download
from services.gateway.params import AsOfQuery, IdQuery
from services.gateway.problems import PROBLEM_RESPONSES
from services.gateway.registry_imports import ACCEPT_DOC, add_template_route, run_import
from services.organizations.contracts import body_of
from services.organizations.development import commands as dc
from services.organizations.development.queries import (ApplicantEntry, ApplicantList, CandidateScreening, Pipeline,
                                                        ProbationDue, Stage)

SERVICE = "organizations"
router = APIRouter(prefix="/api/v1/counties/{county}", tags=["development"], responses=PROBLEM_RESPONSES)

ApplicantPath = Annotated[str, Path(pattern=TOKEN_PATTERN, description="申请人编号 / applicant id")]
MemberPath = Annotated[str, Path(pattern=TOKEN_PATTERN, description="预备党员编号 / probationary member id")]
StageQuery = Annotated[Stage | None, Query(description="阶段 / stage")]


@router.post("/applicants", status_code=201, response_model=written(dc.NewApplicant),
             summary="接收入党申请 / record an application to join the Party")
async def receive_application(body: dc.ReceiveApplication, edge: WriteEdge) -> dict[str, Any]:
    return await edge.write(SERVICE, "receive_application", body.model_dump(mode="json"))


@router.post("/applicants/import", status_code=201, response_model=written(dc.ApplicantImport),
             summary="导入发展党员台账（CSV/Excel） / import applicants with their steps so far")
async def import_applicants(edge: WriteEdge, file: Annotated[UploadFile, File(description=".csv 或 .xlsx，≤10 MB")],
                            accept: Annotated[str | None, Header(description=ACCEPT_DOC)] = None) -> Any:
    """Columns 姓名, 性别, 出生日期, 所在支部, 申请日期, 接收人; optional 确定积极分子日期, 培养联系人 (、-separated),
    确定发展对象日期, 决定机构. Each step is checked as the single command checks it (age, the activist's
    months, the rule table on each date). All or nothing; importing again records only steps not yet there."""
    return await run_import(edge, "import_applicants", file, accept, "applicants")


add_template_route(router, "/applicants/import/template", "applicants")


def _applicant_step(segment: str, model: type[BaseModel], command: str, summary: str) -> None:
    body_model = body_of(model, "applicant_id")

    async def endpoint(body: body_model, edge: WriteEdge,  # type: ignore[valid-type]
                       applicant_id: ApplicantPath) -> dict[str, Any]:
        data = bodies.command(model, {**body.model_dump(exclude_unset=True), "applicant_id": applicant_id},
                              {"applicant_id": "path.applicant_id"})
        return await edge.write(SERVICE, command, data)

    router.add_api_route(f"/applicants/{{applicant_id}}/{segment}", endpoint, methods=["POST"], name=command,
                         response_model=written(dc.DevelopmentStep), summary=summary, description=model.__doc__)


def _probation_step(segment: str, model: type[BaseModel], command: str, summary: str) -> None:
    body_model = body_of(model, "member_id")

    async def endpoint(body: body_model, edge: WriteEdge, member_id: MemberPath) -> dict[str, Any]:  # type: ignore[valid-type]
        data = bodies.command(model, {**body.model_dump(exclude_unset=True), "member_id": member_id},
                              {"member_id": "path.member_id"})
        return await edge.write(SERVICE, command, data)

    router.add_api_route(f"/members/{{member_id}}/{segment}", endpoint, methods=["POST"], name=command,
                         response_model=written(dc.DevelopmentStep), summary=summary, description=model.__doc__)


for _segment, _model, _command, _summary in [
    ("activist", dc.DesignateActivist, "designate_activist",
     "确定入党积极分子 / designate an activist (with training contacts)"),
    ("candidate", dc.DesignateCandidate, "designate_candidate", "确定发展对象 / designate a development candidate"),
    ("admission", dc.AdmitProbationaryMember, "admit_probationary_member",
     "接收预备党员 / admit as a probationary member (branch meeting + upper approval)"),
    ("discontinuation", dc.DiscontinueDevelopment, "discontinue_development",
     "终止培养 / end the development, with a reason"),
]:
    _applicant_step(_segment, _model, _command, _summary)

for _segment, _model, _command, _summary in [
    ("confirmation", dc.ConfirmMembership, "confirm_membership", "预备党员转正 / make a probationary member full"),
    ("probation-extension", dc.ExtendProbation, "extend_probation", "延长预备期 / extend the probation once"),
    ("probation-cancellation", dc.CancelProbation, "cancel_probation",
     "取消预备党员资格 / cancel a probationary membership"),
]:
    _probation_step(_segment, _model, _command, _summary)


def _filter(branch_id: str | None, township_id: str | None, stage: str | None) -> dict[str, Any]:
    return {"branch_id": branch_id, "township_id": township_id, "stage": stage}


@router.get("/applicants", response_model=ApplicantList, summary="发展党员台账 / the development ledger")
async def list_applicants(edge: ReadEdge, branch_id: IdQuery = None, township_id: IdQuery = None,
                          stage: StageQuery = None) -> Any:
    return await edge.read(SERVICE, "list_applicants", _filter(branch_id, township_id, stage))


@router.get("/applicants.xlsx", response_class=Response, responses=XLSX_RESPONSES,
            summary="导出发展党员台账（Excel） / download the development ledger as .xlsx")
async def applicants_export(edge: ReadEdge, branch_id: IdQuery = None, township_id: IdQuery = None,
                            stage: StageQuery = None) -> Response:
    return await xlsx_download(edge, SERVICE, "applicants_export", _filter(branch_id, township_id, stage),
                               f"applicants_{edge.county}.xlsx")


@router.get("/applicants/{applicant_id}", response_model=ApplicantEntry,
            summary="申请人（预备党员）详情 / one applicant's or probationary member's steps")
async def get_applicant(edge: ReadEdge, applicant_id: ApplicantPath) -> Any:
    return await edge.read(SERVICE, "get_applicant", {"applicant_id": applicant_id})


@router.get("/development-pipeline", response_model=Pipeline,
            summary="发展党员情况 / the pipeline by stage, per branch and township")
async def development_pipeline(edge: ReadEdge, as_of: AsOfQuery = None) -> Any:
    """As of a business date: each person at the step they had reached that day (steps dated later left
    out); a probationary member who died, left or was expelled counts until the change's date."""
    return await edge.read(SERVICE, "development_pipeline", {"as_of": as_of.isoformat() if as_of else None})


@router.get("/probation-due", response_model=ProbationDue,
            summary="预备期届满提醒 / probations ending soon (default 30 days) and overdue")
async def probation_due(edge: ReadEdge, as_of: AsOfQuery = None,
                        within_days: Annotated[int | None, Query(ge=1, le=366)] = None) -> Any:
    return await edge.read(SERVICE, "probation_due", {"as_of": as_of.isoformat() if as_of else None,
                                                      "within_days": within_days})


@router.get("/branches-without-candidates", response_model=CandidateScreening,
            summary="连续多年未确定发展对象的党支部 / branches without a development candidate for years")
async def branches_without_candidates(edge: ReadEdge, as_of: AsOfQuery = None) -> Any:
    return await edge.read(SERVICE, "branches_without_candidates", {"as_of": as_of.isoformat() if as_of else None})
