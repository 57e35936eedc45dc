"""Queries of member development (发展党员): the ledger of applicants, the pipeline per branch and
township, probations ending soon or overdue, branches without a development candidate for years (a
软弱涣散 screening reason), and the Excel ledger. Every answer holds only what the caller's scope
covers (a branch secretary their branch, a township operator their township). Reads are in ledger.py."""
from __future__ import annotations

import asyncio
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.errors import not_found
from shared.messaging import ok
from shared.service import Context
from services.organizations.clock import today
from services.organizations.contracts import TOKEN_PATTERN, workbook_reply
from services.organizations.development import ledger
from services.organizations.registry.queries import organizations_by_id
from services.organizations.rules.queries import rules_in_force
from services.organizations.scope import may_read

Stage = Literal["applicant", "activist", "candidate", "probationary", "full", "cancelled", "discontinued"]


class ApplicantQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    branch_id: str | None = Field(None, pattern=TOKEN_PATTERN, description="只看此党支部 / one branch only")
    township_id: str | None = Field(None, pattern=TOKEN_PATTERN, description="只看此乡镇 / one township only")
    stage: Stage | None = Field(None, description="只看此阶段 / one stage only")


class GetApplicant(BaseModel):
    model_config = ConfigDict(extra="forbid")
    applicant_id: str = Field(pattern=TOKEN_PATTERN, description="申请人（党员）编号 / applicant (member) id")


class DueQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    as_of: date | None = Field(None, description="业务日期；默认今天 / business date; default today")
    within_days: int | None = Field(None, ge=1, le=366, description="多少天内届满；默认规则表（30天） / days ahead; "
                                                                   "default: the rule table's (30)")


class AsOfQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    as_of: date | None = Field(None, description="业务日期；默认今天 / business date; default today")


class ApplicantEntry(BaseModel):
    applicant_id: str = Field(description="申请人编号（接收后即党员编号） / applicant id (= member id once admitted)")
    name: str = Field(description="姓名 / name")
    gender: str | None = Field(None, description="性别 / male or female")
    birth_date: date | None = Field(None, description="出生日期 / date of birth")
    branch_id: str = Field(description="所在党支部 / the branch")
    branch_name: str | None = Field(None, description="党支部名称 / its name")
    township_id: str | None = Field(None, description="所属乡镇 / its township")
    stage: str = Field(description="阶段 / applicant, activist, candidate, probationary, full, cancelled, discontinued")
    source: str = Field(description="development 发展程序登记 / registry 登记时即为预备党员（导入）")
    applied_on: date | None = Field(None, description="申请日期 / application date")
    activist_on: date | None = Field(None, description="确定为积极分子 / designated an activist on")
    training_contacts: list[str] = Field(description="培养联系人 / training contacts")
    candidate_on: date | None = Field(None, description="确定为发展对象 / designated a development candidate on")
    admitted_on: date | None = Field(None, description="支部大会接收（入党日期） / admitted by the branch meeting on")
    approved_on: date | None = Field(None, description="上级审批日期 / approved by the upper organization on")
    probation_ends_on: date | None = Field(None, description="预备期届满 / probation ends on")
    extensions: int = Field(description="预备期延长次数 / times the probation was extended")
    full_from: date | None = Field(None, description="转正，党龄自此日起算 / full member from")
    ended_on: date | None = Field(None, description="转正审批、取消或终止日期 / date confirmed, cancelled or ended")
    end_reason: str | None = Field(None, description="取消或终止原因 / reason for a cancellation or discontinuation")
    seq: int = Field(description="stream sequence of the first event")


class ApplicantList(BaseModel):
    items: list[ApplicantEntry] = Field(description="按登记顺序 / in order of recording")


class StageCounts(BaseModel):
    applicants: int = Field(description="入党申请人 / applicants")
    activists: int = Field(description="入党积极分子 / activists")
    candidates: int = Field(description="发展对象 / development candidates")
    probationary: int = Field(description="预备党员 / probationary members")


class BranchPipeline(StageCounts):
    branch_id: str = Field(description="党支部编号 / branch id")
    name: str | None = Field(None, description="党支部名称 / branch name")
    township_id: str | None = Field(None, description="所属乡镇 / township")


class TownshipPipeline(StageCounts):
    township_id: str | None = Field(None, description="乡镇编号（无乡镇的为 null） / township id, null for none")


class Pipeline(BaseModel):
    as_of: date = Field(description="业务日期 / the date the pipeline stood so")
    total: StageCounts = Field(description="合计 / all the caller may see")
    by_township: list[TownshipPipeline] = Field(description="按乡镇 / per township")
    by_branch: list[BranchPipeline] = Field(description="按党支部（有在培养人员的） / per branch with anyone in it")


class ProbationEntry(BaseModel):
    member_id: str = Field(description="预备党员编号 / member id")
    name: str = Field(description="姓名 / name")
    branch_id: str = Field(description="党支部 / branch")
    branch_name: str | None = Field(None, description="党支部名称 / branch name")
    township_id: str | None = Field(None, description="乡镇 / township")
    admitted_on: date | None = Field(None, description="入党日期（预备期起算） / joined, probation started")
    probation_ends_on: date = Field(description="预备期届满 / probation ends on")
    extended: bool = Field(description="已延长预备期 / the probation was extended")
    days_left: int = Field(description="距届满天数（负数为已超期） / days until the end (negative: overdue)")


class ProbationDue(BaseModel):
    as_of: date = Field(description="业务日期 / the date asked about")
    within_days: int = Field(description="提醒天数 / days ahead")
    due: list[ProbationEntry] = Field(description="即将届满 / ending within the days ahead")
    overdue: list[ProbationEntry] = Field(description="已届满未转正（未延长、未取消） / past the end, not decided")


class WeakReasonRef(BaseModel):
    code: str = Field(description="软弱涣散情形编码（整顿时用） / the weak reason code to flag with")
    name: str | None = Field(None, description="情形名称 / its name in the rule table")


class ScreenedBranch(BaseModel):
    branch_id: str = Field(description="党支部编号 / branch id")
    name: str = Field(description="党支部名称 / name")
    township_id: str | None = Field(None, description="乡镇 / township")
    last_candidate_on: date | None = Field(None, description="最近确定发展对象日期（无记录为 null） / latest "
                                                             "development candidate, null if none recorded")
    since: date = Field(description="起算日：最近发展对象，或无记录时的成立批准日 / counted from")
    days_without: int = Field(description="至今天数 / days since")


class CandidateScreening(BaseModel):
    as_of: date = Field(description="业务日期 / the date asked about")
    years: int = Field(description="规则表年限 / the rule table's years")
    weak_reason: WeakReasonRef = Field(description="对应的软弱涣散情形 / the weak reason this screening supports")
    items: list[ScreenedBranch] = Field(description="连续多年未确定发展对象的党支部 / branches without a candidate")


# -- handlers ------------------------------------------------------------------------------------
async def on_list_applicants(ctx: Context, q: ApplicantQuery) -> dict:
    """The development ledger: everyone in the pipeline or on probation (and what became of them)."""
    rows, orgs = await ledger.applicants(ctx)
    items = [ledger.entry(r, orgs) for r in rows]
    items = [i for i in items if (q.branch_id is None or i["branch_id"] == q.branch_id)
             and (q.township_id is None or i["township_id"] == q.township_id)
             and (q.stage is None or i["stage"] == q.stage)]
    return ok({"items": items})


async def on_get_applicant(ctx: Context, q: GetApplicant) -> dict:
    """One applicant's (or probationary member's) steps."""
    rows, orgs = await ledger.applicants(ctx)
    found = next((r for r in rows if r["applicant_id"] == q.applicant_id), None)
    if found is None:
        raise not_found("applicant_not_found", f"无此申请人 / applicant {q.applicant_id} not found", "applicant_id")
    return ok(ledger.entry(found, orgs))


async def on_development_pipeline(ctx: Context, q: AsOfQuery) -> dict:
    """The open pipeline by stage, per branch and per township — today, or as it stood on a date."""
    rows, orgs = await ledger.applicants(ctx, q.as_of)
    return ok({**ledger.pipeline(rows, orgs), "as_of": q.as_of or today()})


async def on_probation_due(ctx: Context, q: DueQuery) -> dict:
    """预备期即将届满 (within the rule table's days, 30 by default) and overdue probations."""
    on = q.as_of or today()
    within = q.within_days or (await rules_in_force(ctx, on)).development.probation_due_days
    rows, orgs = await ledger.applicants(ctx)
    return ok(ledger.probation_due(rows, orgs, on, within))


async def on_branches_without_candidates(ctx: Context, q: AsOfQuery) -> dict:
    """Branches with no development candidate for the rule table's years (连续2年以上未发展党员)."""
    on = q.as_of or today()
    table = await rules_in_force(ctx, on)
    rules = table.development
    orgs = {k: o for k, o in (await organizations_by_id(ctx)).items() if may_read(ctx.actor, o)}
    items = ledger.branches_without_candidates(orgs, await ledger.last_candidates(ctx, on), on, rules.no_candidate_years)
    reason = table.weak_reason(rules.screening_weak_reason)
    return ok({"as_of": on.isoformat(), "years": rules.no_candidate_years, "items": items,
               "weak_reason": {"code": rules.screening_weak_reason, "name": reason.name if reason else None}})


async def on_applicants_export(ctx: Context, q: ApplicantQuery) -> dict:
    """The development ledger (发展党员台账) as an Excel workbook (base64)."""
    rows, orgs = await ledger.applicants(ctx)
    rows = [r for r in rows if (q.branch_id is None or r["branch_id"] == q.branch_id)
            and (q.stage is None or r["stage"] == q.stage) and (q.township_id is None or (orgs.get(r["branch_id"]) or {}).get("township_id") == q.township_id)]
    content = await asyncio.to_thread(ledger.ledger_xlsx, rows, orgs)
    return workbook_reply(f"发展党员台账_{ctx.county}.xlsx", content)
