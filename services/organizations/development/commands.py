"""Commands of member development (发展党员) and their replies. Shape checks live here; the order of
steps, minimum durations (rule table) and dates against each other live in domain.py."""
from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field, field_validator

from shared.catalog.organizations import Gender
from services.organizations.contracts import TOKEN_PATTERN, Command, UploadedFile, blank_to_none
from services.organizations.registry.commands import normalize_gender


def contact_names(value: list[str]) -> list[str]:
    """Training contacts: 1–40 characters each, all different (a plain function: body_of copies it)."""
    names = [v.strip() for v in value]
    if any(not n or len(n) > 40 for n in names):
        raise ValueError("培养联系人姓名须为1–40字 / each name 1–40 characters")
    if len(set(names)) != len(names):
        raise ValueError("培养联系人不能重复 / training contacts must differ")
    return names


class ReceiveApplication(Command):
    """接收入党申请 / Record an application to join the Party, received by a branch."""

    name: str = Field(min_length=1, max_length=40, description="申请人姓名 / applicant's name, e.g. 黄小燕")
    gender: Gender = Field(description="性别：male/female（亦可填 男/女）")
    birth_date: date = Field(description="出生日期 / date of birth (年满十八岁方可申请)")
    branch_id: str = Field(pattern=TOKEN_PATTERN, description="接收申请的党支部 / the branch that received it")
    applied_on: date = Field(description="申请日期 / date of the written application")
    received_by: str = Field(min_length=1, max_length=40, description="谈话人/接收人 / who received it and talked "
                                                                      "with the applicant")
    applicant_id: str | None = Field(None, pattern=TOKEN_PATTERN,
                                     description="指定编号（可选，默认自动生成；接收为预备党员后即党员编号） / id, "
                                                 "generated when omitted; becomes the member id on admission")

    _gender = field_validator("gender", mode="before")(normalize_gender)
    _blank = field_validator("applicant_id", mode="before")(blank_to_none)


class DesignateActivist(Command):
    """确定为入党积极分子，指定培养联系人 / Designate an applicant as an activist, with training contacts."""

    applicant_id: str = Field(pattern=TOKEN_PATTERN, description="申请人编号 / applicant id")
    designated_on: date = Field(description="支部委员会确定日期 / date the branch committee decided")
    decided_by: str = Field(min_length=1, max_length=40, description="决定机构 / who decided, e.g. 支部委员会")
    training_contacts: list[str] = Field(min_length=1, max_length=3,
                                         description="培养联系人（正式党员）姓名 / the full members who train the "
                                                     "activist (the rule table says how many, usually 2)")

    _names = field_validator("training_contacts")(contact_names)


class DesignateCandidate(Command):
    """确定为发展对象 / Designate an activist as a development candidate."""

    applicant_id: str = Field(pattern=TOKEN_PATTERN, description="申请人编号 / applicant id")
    designated_on: date = Field(description="确定日期 / date decided")
    decided_by: str = Field(min_length=1, max_length=40, description="决定机构 / who decided, e.g. 支部委员会")


class AdmitProbationaryMember(Command):
    """接收为预备党员：支部大会表决、上级党组织审批 / Admit a development candidate as a probationary member:
    the branch meeting's vote, then the upper organization's approval. Registers the member."""

    applicant_id: str = Field(pattern=TOKEN_PATTERN, description="申请人编号（即党员编号） / applicant id (= member id)")
    branch_meeting_on: date = Field(description="支部大会表决日期（入党日期、预备期起算） / branch meeting vote; "
                                                "joining date, probation starts")
    approved_by: str = Field(min_length=1, max_length=40, description="审批的上级党组织 / the approving upper "
                                                                      "organization")
    approved_on: date = Field(description="上级党组织审批日期 / date of approval")


class ProbationDecision(Command):
    """A decision on a probationary member: branch meeting, then upper approval."""

    member_id: str = Field(pattern=TOKEN_PATTERN, description="预备党员编号 / the probationary member")
    branch_meeting_on: date = Field(description="支部大会讨论日期 / date of the branch meeting")
    approved_by: str = Field(min_length=1, max_length=40, description="审批的上级党组织 / approving organization")
    approved_on: date = Field(description="上级党组织审批日期 / date of approval")


class ConfirmMembership(ProbationDecision):
    """预备党员转正 / Make a probationary member full after the probation."""


class ExtendProbation(ProbationDecision):
    """延长预备期（一次，6至12个月） / Extend a probation once, by 6–12 months (rule table)."""

    months: int = Field(ge=1, le=24, description="延长月数 / months, 6–12 by the national rules")
    reason: str = Field(min_length=1, max_length=200, description="延长原因 / reason")


class CancelProbation(ProbationDecision):
    """取消预备党员资格 / Cancel a probationary membership, with a reason."""

    reason: str = Field(min_length=1, max_length=200, description="取消原因 / reason")


class DiscontinueDevelopment(Command):
    """终止培养（撤回申请、取消积极分子或发展对象资格） / End an applicant's, activist's or candidate's
    development, with a reason."""

    applicant_id: str = Field(pattern=TOKEN_PATTERN, description="申请人编号 / applicant id")
    decided_on: date = Field(description="决定日期 / date decided")
    decided_by: str = Field(min_length=1, max_length=40, description="决定机构 / who decided")
    reason: str = Field(min_length=1, max_length=200, description="原因 / reason")


class ImportApplicants(UploadedFile):
    """导入发展党员台账 / Record the applicants of a spreadsheet (CSV or .xlsx) with their steps so far: columns
    姓名, 性别, 出生日期, 所在支部, 申请日期, 接收人 and optional 确定积极分子日期, 培养联系人 (、-separated),
    确定发展对象日期, 决定机构; all rows or none; steps already recorded are not recorded again."""


# -- replies --------------------------------------------------------------------------------------
class NewApplicant(BaseModel):
    applicant_id: str = Field(description="申请人编号 / the applicant's id")


class DevelopmentStep(BaseModel):
    applicant_id: str = Field(description="申请人（党员）编号 / applicant (member) id")
    stage: str = Field(description="当前阶段 / stage now: applicant, activist, candidate, probationary, full, "
                                   "cancelled, discontinued")
    probation_ends_on: date | None = Field(None, description="预备期届满日 / end of probation, when probationary")


class ApplicantImport(BaseModel):
    imported: int = Field(description="本次新登记的申请人 / applicants recorded now")
    already_imported: int = Field(description="此前已登记 / applicants recorded before (their new steps, if any, added)")
    steps: int = Field(description="本次记录的步骤（申请、积极分子、发展对象） / steps recorded now")
    applicant_ids: list[str] = Field(description="每行的申请人编号，按行序 / each row's applicant id, in row order")
