"""Organization lifecycle (更名/升格/整建制转移/合并/撤销/恢复, 换届), the county rule table, classification
(分类定级) and rectification of weak organizations (整顿软弱涣散) → the organizations service.

The organization or case a command acts on is named by the path: the body is the command without
that id, and the command is validated again with the path's id merged (bodies.command), so the
service gets exactly its command. Every operation declares the service's reply model.
"""
# No `from __future__ import annotations`: the route factories below annotate with their arguments,
# which FastAPI must see as classes, not as strings to resolve in this module's globals.
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel

from services.gateway import bodies
from services.gateway.auth import TOKEN_PATTERN
from services.gateway.edge import ReadEdge, WriteEdge, written
from services.gateway.files import XLSX_RESPONSES, xlsx_download
from services.gateway.params import AsOfQuery, IdQuery
from services.gateway.problems import PROBLEM_RESPONSES
from services.organizations.campaigns import commands as cc
from services.organizations.contracts import body_of
from services.organizations.campaigns.queries import CaseDetail, CaseList, ClassificationHistory, RectificationSummary
from services.organizations.lifecycle import commands as lcc
from services.organizations.lifecycle.queries import ElectionReminders
from services.organizations.rules.commands import AdoptRules, RulesEffective
from services.organizations.rules.queries import RuleVersions

SERVICE = "organizations"
CAMPAIGN_PATTERN = cc.CAMPAIGN_PATTERN
CASE_PATTERN = cc.CASE_PATTERN
REASON_PATTERN = r"^[a-z][a-z0-9_]{0,39}$"

router = APIRouter(prefix="/api/v1/counties/{county}", responses=PROBLEM_RESPONSES)

OrganizationPath = Annotated[str, Path(pattern=TOKEN_PATTERN, description="党组织编号 / organization id")]
CasePath = Annotated[str, Path(pattern=CASE_PATTERN, description="整顿案例编号 批次.党组织编号 / "
                                                                 "case id campaign.organization_id, e.g. 2026.o1")]
YearPath = Annotated[int, Path(ge=2000, le=2100, description="定级年度 / year")]
CampaignQuery = Annotated[str | None, Query(pattern=CAMPAIGN_PATTERN, description="整顿批次 / campaign, e.g. 2026")]
ReasonQuery = Annotated[str | None, Query(pattern=REASON_PATTERN, description="软弱涣散情形编码 / weak reason code")]
CaseStatus = Literal["flagged", "planned", "township_accepted", "rectified", "open"]
StatusQuery = Annotated[CaseStatus | None, Query(description="open = 未销号 / not yet rectified")]


def _targeted(key: str, value: str, body: BaseModel, command: type[BaseModel]) -> dict[str, Any]:
    """The whole command: the body with the path's id merged, validated once more as the command."""
    return bodies.command(command, {**body.model_dump(exclude_unset=True), key: value}, {key: f"path.{key}"})


# -- lifecycle -------------------------------------------------------------------------------------
def _organization_command(segment: str, model: type[BaseModel], command: str, reply: type[BaseModel],
                          summary: str) -> None:
    body_model = body_of(model, "organization_id")

    async def endpoint(body: body_model, edge: WriteEdge,  # type: ignore[valid-type]
                       organization_id: OrganizationPath) -> dict[str, Any]:
        return await edge.write(SERVICE, command, _targeted("organization_id", organization_id, body, model))

    router.add_api_route(f"/organizations/{{organization_id}}/{segment}", endpoint, methods=["POST"], name=command,
                         response_model=written(reply), summary=summary, description=model.__doc__,
                         tags=["lifecycle"])


for _segment, _model, _command, _reply, _summary in [
    ("rename", lcc.RenameOrganization, "rename_organization", lcc.OrganizationChange, "更名 / rename an organization"),
    ("upgrade", lcc.UpgradeOrganization, "upgrade_organization", lcc.OrganizationChange,
     "升格 / upgrade an organization"),
    ("transfer", lcc.TransferOrganization, "transfer_organization", lcc.OrganizationChange,
     "整建制转移 / move a whole organization"),
    ("merge", lcc.MergeOrganization, "merge_organization", lcc.MergeResult, "合并 / merge into another organization"),
    ("dissolve", lcc.DissolveOrganization, "dissolve_organization", lcc.OrganizationChange,
     "撤销 / dissolve an organization"),
    ("restore", lcc.RestoreOrganization, "restore_organization", lcc.OrganizationChange,
     "恢复 / restore a dissolved organization"),
    ("committee", lcc.ElectCommittee, "elect_committee", lcc.ElectionResult, "换届选举 / record an elected committee"),
    ("election-postponement", lcc.PostponeElection, "postpone_election", lcc.OrganizationChange,
     "延期（提前）换届 / move the election due date"),
]:
    _organization_command(_segment, _model, _command, _reply, _summary)


@router.get("/election-reminders", tags=["lifecycle"], response_model=ElectionReminders,
            summary="换届提醒 / terms ending within 6 months, overdue, or not recorded")
async def election_reminders(edge: ReadEdge) -> Any:
    return await edge.read(SERVICE, "election_reminders", {})


# -- rule table ------------------------------------------------------------------------------------
@router.put("/rules", tags=["rules"], response_model=written(RulesEffective),
            summary="采用规则表 / adopt the county's rule table from a date")
async def adopt_rules(body: AdoptRules, edge: WriteEdge) -> dict[str, Any]:
    return await edge.write(SERVICE, "adopt_rules", body.model_dump(mode="json"))


@router.get("/rules", tags=["rules"], response_model=RuleVersions,
            summary="规则表 / the rule table in force on a date and every version")
async def rules(edge: ReadEdge, as_of: AsOfQuery = None) -> Any:
    return await edge.read(SERVICE, "rules", {"as_of": as_of.isoformat() if as_of else None})


# -- classification --------------------------------------------------------------------------------
ClassificationEntry = body_of(cc.ClassifyOrganization, "organization_id", "year", name="ClassificationEntry")


@router.put("/organizations/{organization_id}/classifications/{year}", tags=["classification"],
            response_model=written(cc.YearClassified),
            summary="分类定级 / classify an organization for a year (again = a correction, with a note)")
async def classify_organization(body: ClassificationEntry, edge: WriteEdge,  # type: ignore[valid-type]
                                organization_id: OrganizationPath, year: YearPath) -> dict[str, Any]:
    data = bodies.command(cc.ClassifyOrganization, {**body.model_dump(exclude_unset=True), "year": year,
                                                    "organization_id": organization_id},
                          {"year": "path.year", "organization_id": "path.organization_id"})
    return await edge.write(SERVICE, "classify_organization", data)


@router.get("/classifications", tags=["classification"], response_model=ClassificationHistory,
            summary="定级历史 / classes over the years with 晋位升级 (promoted) and 降级 (demoted)")
async def classification_history(edge: ReadEdge, organization_id: IdQuery = None) -> Any:
    return await edge.read(SERVICE, "classification_history", {"organization_id": organization_id})


# -- rectification ---------------------------------------------------------------------------------
@router.post("/rectification-cases", status_code=201, tags=["rectification"], response_model=written(cc.CaseOpened),
             summary="列入软弱涣散 / flag an organization weak in a campaign (opens a case)")
async def flag_organization_weak(body: cc.FlagOrganizationWeak, edge: WriteEdge) -> dict[str, Any]:
    return await edge.write(SERVICE, "flag_organization_weak", body.model_dump(mode="json"))


def _case_command(segment: str, model: type[BaseModel], command: str, summary: str) -> None:
    body_model = body_of(model, "case_id")

    async def endpoint(body: body_model, edge: WriteEdge, case_id: CasePath) -> dict[str, Any]:  # type: ignore[valid-type]
        return await edge.write(SERVICE, command, _targeted("case_id", case_id, body, model))

    router.add_api_route(f"/rectification-cases/{{case_id}}/{segment}", endpoint, methods=["POST"], name=command,
                         response_model=written(cc.CaseStep), summary=summary, description=model.__doc__,
                         tags=["rectification"])


for _segment, _model, _command, _summary in [
    ("plan", cc.PlanRectification, "plan_rectification", "整顿方案（一村一策） / the rectification plan"),
    ("secretary-replacement", cc.ReplaceSecretary, "replace_secretary", "调整书记 / replace the secretary"),
    ("first-secretary", cc.AssignFirstSecretary, "assign_first_secretary", "选派第一书记 / send a first secretary"),
    ("liaison-leader", cc.AssignLiaisonLeader, "assign_liaison_leader", "县级领导包联 / pair a county leader"),
    ("progress", cc.ReportRectificationProgress, "report_rectification_progress", "整顿进展 / report progress"),
    ("township-acceptance", cc.AcceptRectificationByTownship, "accept_rectification_by_township",
     "乡镇验收 / township acceptance"),
    ("acceptance", cc.AcceptRectification, "accept_rectification", "县级验收销号 / county acceptance (converted)"),
    ("extension", cc.ExtendRectification, "extend_rectification", "延期整顿 / extend the due date"),
]:
    _case_command(_segment, _model, _command, _summary)


def _case_filter(campaign: str | None, township_id: str | None, reason: str | None,
                 status: str | None) -> dict[str, Any]:
    return {"campaign": campaign, "township_id": township_id, "reason": reason, "status": status}


@router.get("/rectification-cases", tags=["rectification"], response_model=CaseList,
            summary="整顿台账 / cases by campaign, township, reason and status")
async def list_rectification_cases(edge: ReadEdge, campaign: CampaignQuery = None, township_id: IdQuery = None,
                                   reason: ReasonQuery = None, status: StatusQuery = None) -> Any:
    return await edge.read(SERVICE, "list_rectification_cases", _case_filter(campaign, township_id, reason, status))


@router.get("/rectification-cases/{case_id}", tags=["rectification"], response_model=CaseDetail,
            summary="整顿案例 / one case with its timeline")
async def rectification_case(edge: ReadEdge, case_id: CasePath) -> Any:
    return await edge.read(SERVICE, "rectification_case", {"case_id": case_id})


@router.get("/rectification-summary", tags=["rectification"], response_model=RectificationSummary,
            summary="转化率 / conversion rate per campaign and year, overdue cases, relapses")
async def rectification_summary(edge: ReadEdge) -> Any:
    return await edge.read(SERVICE, "rectification_summary", {})


@router.get("/rectification-ledger.xlsx", tags=["rectification"], response_class=Response,
            responses=XLSX_RESPONSES, summary="导出整顿台账（Excel） / download the ledger as .xlsx")
async def rectification_ledger_export(edge: ReadEdge, campaign: CampaignQuery = None, township_id: IdQuery = None,
                                      reason: ReasonQuery = None, status: StatusQuery = None) -> Response:
    return await xlsx_download(edge, SERVICE, "rectification_ledger_export",
                               _case_filter(campaign, township_id, reason, status),
                               f"rectification-ledger_{edge.county}.xlsx")
