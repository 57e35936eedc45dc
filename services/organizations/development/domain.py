"""Rules of member development (发展党员), pure. An `Applicant` folds its own steps; the steps that
change the registry (admission registers the member, 转正 makes them full, cancellation ends their
standing) return a `Decision` over the applicant and the registry's `Member`, stored in one batch.

A probationary member the registry holds without a pipeline (imported from the national system)
still has a probation: it runs from their joining date for the rule table's probation length, and its
outcome is recorded on an applicant subject of the member's id (`probation_of`).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from shared.aggregate import Aggregate, Decision
from shared.catalog import development as dev
from shared.catalog.base import DomainEvent
from shared.catalog.membership import MembershipStatusChanged, MemberStandingChanged
from shared.catalog.organizations import MemberRegistered
from shared.catalog.rules import DevelopmentRules
from shared.errors import conflict, invalid, not_found
from services.organizations.development.commands import (
    AdmitProbationaryMember, CancelProbation, ConfirmMembership, DesignateActivist, DesignateCandidate,
    DiscontinueDevelopment, ExtendProbation, ProbationDecision, ReceiveApplication)
from services.organizations.lifecycle.elections import add_months
from services.organizations.registry.domain import (Member, Organization, age_on, check_branch_holds_members,
                                                    check_member_is_new, check_not_future)

PIPELINE = ("applicant", "activist", "candidate")  # stages before admission


class Applicant(Aggregate):
    context, aggregate_type = "org", "applicant"

    def __init__(self, aggregate_id: str):
        super().__init__(aggregate_id)
        self.stage: str | None = None
        self.name: str | None = None
        self.gender: str | None = None
        self.birth_date: date | None = None
        self.branch_id: str | None = None
        self.last_step_on: date | None = None
        self.activist_on: date | None = None
        self.candidate_on: date | None = None
        self.admitted_on: date | None = None
        self.probation_ends_on: date | None = None
        self.extensions = 0

    def apply(self, event: DomainEvent) -> None:
        self.mark_exists()
        if isinstance(event, dev.ApplicationReceived):
            self.stage, self.name, self.gender = "applicant", event.name, event.gender
            self.birth_date = event.birth_date
            self.branch_id, self.last_step_on = event.branch_id, event.applied_on
        elif isinstance(event, dev.ActivistDesignated):
            self.stage, self.activist_on = "activist", event.designated_on
            self.last_step_on = event.designated_on
        elif isinstance(event, dev.CandidateDesignated):
            self.stage, self.candidate_on = "candidate", event.designated_on
            self.last_step_on = event.designated_on
        elif isinstance(event, dev.ProbationaryAdmitted):
            self.stage, self.admitted_on = "probationary", event.branch_meeting_on
            self.probation_ends_on, self.last_step_on = event.probation_ends_on, event.approved_on
        elif isinstance(event, dev.ProbationExtended):
            self.stage, self.probation_ends_on = "probationary", event.probation_ends_on
            self.extensions += 1
        elif isinstance(event, dev.MembershipConfirmed):
            self.stage = "full"
        elif isinstance(event, dev.ProbationCancelled):
            self.stage = "cancelled"
        elif isinstance(event, dev.DevelopmentDiscontinued):
            self.stage = "discontinued"

    # -- the pipeline ------------------------------------------------------------------------------
    def receive(self, cmd: ReceiveApplication, *, branch: Organization, rules: DevelopmentRules,
                today: date) -> list[DomainEvent]:
        if self.exists:
            raise conflict("applicant_exists", f"申请人 {self.id} 已登记 / applicant {self.id} is already recorded")
        check_branch_holds_members(branch, "branch_id")
        check_not_future(cmd.applied_on, today, "applied_on", "申请日期", "application date")
        check_old_enough_to_apply(cmd.birth_date, cmd.applied_on, rules)
        return [dev.ApplicationReceived(applicant_id=self.id, name=cmd.name, gender=cmd.gender,
                                        birth_date=cmd.birth_date, branch_id=branch.id, applied_on=cmd.applied_on,
                                        received_by=cmd.received_by)]

    def designate_activist(self, cmd: DesignateActivist, *, rules: DevelopmentRules,
                           today: date) -> list[DomainEvent]:
        check_stage(self, "applicant")
        check_step_date(self, cmd.designated_on, today, "designated_on")
        if len(cmd.training_contacts) != rules.training_contacts:
            raise invalid("training_contacts_count", "training_contacts",
                          f"须指定{rules.training_contacts}名培养联系人 / name {rules.training_contacts} "
                          f"training contacts")
        return [dev.ActivistDesignated(applicant_id=self.id, designated_on=cmd.designated_on,
                                       decided_by=cmd.decided_by, training_contacts=tuple(cmd.training_contacts))]

    def designate_candidate(self, cmd: DesignateCandidate, *, rules: DevelopmentRules,
                            today: date) -> list[DomainEvent]:
        check_stage(self, "activist")
        check_step_date(self, cmd.designated_on, today, "designated_on")
        assert self.activist_on is not None and self.branch_id is not None
        earliest = add_months(self.activist_on, rules.activist_min_months)
        if cmd.designated_on < earliest:
            raise invalid("activist_too_short", "designated_on",
                          f"入党积极分子培养教育须满{rules.activist_min_months}个月（{earliest} 起） / an activist "
                          f"needs {rules.activist_min_months} months before becoming a candidate (from {earliest})")
        return [dev.CandidateDesignated(applicant_id=self.id, branch_id=self.branch_id,
                                        designated_on=cmd.designated_on, decided_by=cmd.decided_by)]

    def discontinue(self, cmd: DiscontinueDevelopment, *, today: date) -> list[DomainEvent]:
        check_stage(self, *PIPELINE)
        check_step_date(self, cmd.decided_on, today, "decided_on")
        return [dev.DevelopmentDiscontinued(applicant_id=self.id, reason=cmd.reason, decided_by=cmd.decided_by,
                                            decided_on=cmd.decided_on)]

    def admit(self, cmd: AdmitProbationaryMember, *, member: Member, branch: Organization,
              rules: DevelopmentRules, today: date) -> Decision:
        """接收预备党员: the applicant becomes a probationary member of the branch holding the file."""
        check_stage(self, "candidate")
        check_step_date(self, cmd.branch_meeting_on, today, "branch_meeting_on")
        check_approval(cmd.branch_meeting_on, cmd.approved_on, today)
        check_member_is_new(member)
        check_branch_holds_members(branch, "applicant_id")
        assert self.name is not None and self.birth_date is not None and self.gender is not None
        ends_on = add_months(cmd.branch_meeting_on, rules.probation_months)
        admitted = dev.ProbationaryAdmitted(
            applicant_id=self.id, branch_id=branch.id, branch_meeting_on=cmd.branch_meeting_on,
            approved_by=cmd.approved_by, approved_on=cmd.approved_on, probation_ends_on=ends_on)
        registered = MemberRegistered(member_id=member.id, name=self.name, gender=self.gender,
                                      birth_date=self.birth_date, membership_status="probationary",
                                      joined_on=cmd.branch_meeting_on, branch_id=branch.id)
        return Decision(answer=_step(self.id, "probationary", ends_on)).add(self, [admitted]).add(member, [registered])

    # -- probation -----------------------------------------------------------------------------------
    def confirm(self, cmd: ConfirmMembership, *, member: Member, rules: DevelopmentRules, today: date) -> Decision:
        """转正 after the probation: the registry's flag follows (probationary → full)."""
        probation = probation_of(self, member, rules)
        check_decision_dates(cmd, probation, today)
        if cmd.branch_meeting_on < probation.ends_on:
            raise invalid("probation_not_over", "branch_meeting_on",
                          f"预备期至 {probation.ends_on} 届满，届满后方可讨论转正 / probation ends on "
                          f"{probation.ends_on}; 转正 is decided after that")
        confirmed = dev.MembershipConfirmed(applicant_id=self.id, branch_meeting_on=cmd.branch_meeting_on,
                                            approved_by=cmd.approved_by, approved_on=cmd.approved_on,
                                            full_from=probation.ends_on)
        flag = MembershipStatusChanged(member_id=member.id, membership_status="full", changed_on=cmd.approved_on,
                                       reason=f"预备党员转正（党龄自 {probation.ends_on} 起算） / confirmed")
        return Decision(answer=_step(self.id, "full")).add(self, [confirmed]).add(member, [flag])

    def extend(self, cmd: ExtendProbation, *, member: Member, rules: DevelopmentRules, today: date) -> Decision:
        probation = probation_of(self, member, rules)
        check_decision_dates(cmd, probation, today)
        if probation.extensions >= rules.max_extensions:
            raise conflict("probation_already_extended", "预备期已延长过，不能再延长 / the probation was already "
                                                         "extended; it cannot be extended again")
        if not rules.extension_min_months <= cmd.months <= rules.extension_max_months:
            raise invalid("extension_months", "months",
                          f"延长预备期为{rules.extension_min_months}至{rules.extension_max_months}个月 / an extension "
                          f"is {rules.extension_min_months}–{rules.extension_max_months} months")
        ends_on = add_months(probation.ends_on, cmd.months)
        extended = dev.ProbationExtended(applicant_id=self.id, months=cmd.months, reason=cmd.reason,
                                         branch_meeting_on=cmd.branch_meeting_on, approved_by=cmd.approved_by,
                                         approved_on=cmd.approved_on, probation_ends_on=ends_on)
        return Decision(answer=_step(self.id, "probationary", ends_on)).add(self, [extended])

    def cancel(self, cmd: CancelProbation, *, member: Member, rules: DevelopmentRules, today: date) -> Decision:
        """取消预备党员资格: the member leaves the counts (standing "cancelled")."""
        probation = probation_of(self, member, rules)
        check_decision_dates(cmd, probation, today)
        cancelled = dev.ProbationCancelled(applicant_id=self.id, reason=cmd.reason,
                                           branch_meeting_on=cmd.branch_meeting_on, approved_by=cmd.approved_by,
                                           approved_on=cmd.approved_on)
        standing = MemberStandingChanged(member_id=member.id, standing="cancelled", previous=member.standing,
                                         changed_on=cmd.approved_on, reason=cmd.reason, decided_by=cmd.approved_by,
                                         branch_id=member.branch_id)
        return Decision(answer=_step(self.id, "cancelled")).add(self, [cancelled]).add(member, [standing])


@dataclass(frozen=True)
class Probation:
    started_on: date
    ends_on: date
    extensions: int


def probation_of(applicant: Applicant, member: Member, rules: DevelopmentRules) -> Probation:
    """The probation a decision is about: the pipeline's admission, or a probationary member the registry
    holds without one (from their joining date, the rule table's probation length)."""
    if not member.exists:
        raise not_found("member_not_found", f"党员 {member.id} 不存在于本县 / member not found in this county",
                        "member_id")
    if member.membership_status != "probationary" or not member.in_good_standing \
            or applicant.stage not in (None, "probationary"):
        raise conflict("not_probationary", f"{member.name or member.id} 不是预备党员 / not a probationary member")
    assert member.joined_on is not None
    if applicant.admitted_on is not None and applicant.probation_ends_on is not None:
        return Probation(applicant.admitted_on, applicant.probation_ends_on, applicant.extensions)
    ends_on = applicant.probation_ends_on or add_months(member.joined_on, rules.probation_months)
    return Probation(member.joined_on, ends_on, applicant.extensions)


def _step(applicant_id: str, stage: str, ends_on: date | None = None) -> dict:
    return {"applicant_id": applicant_id, "stage": stage,
            "probation_ends_on": ends_on.isoformat() if ends_on else None}


# --- invariants ---------------------------------------------------------------------------------
STAGE_NAMES = {"applicant": "入党申请人", "activist": "入党积极分子", "candidate": "发展对象",
               "probationary": "预备党员", "full": "正式党员", "cancelled": "已取消预备党员资格",
               "discontinued": "已终止培养"}


def check_stage(applicant: Applicant, *stages: str) -> None:
    if not applicant.exists:
        raise not_found("applicant_not_found", f"申请人 {applicant.id} 不存在于本县 / applicant not found",
                        "applicant_id")
    if applicant.stage not in stages:
        wanted = "、".join(STAGE_NAMES[s] for s in stages)
        raise conflict("wrong_stage", f"此步骤只适用于{wanted}，当前为{STAGE_NAMES.get(applicant.stage or '', '?')} / "
                                      f"this step is for {'/'.join(stages)}; the applicant is {applicant.stage}")


def check_step_date(applicant: Applicant, day: date, today: date, field: str) -> None:
    """Steps follow each other: a step is not dated before the previous one, nor in the future."""
    check_not_future(day, today, field, "日期", "date")
    if applicant.last_step_on is not None and day < applicant.last_step_on:
        raise invalid("before_previous_step", field, f"日期早于上一步骤（{applicant.last_step_on}） / date is before "
                                                     f"the previous step ({applicant.last_step_on})")


def check_approval(branch_meeting_on: date, approved_on: date, today: date) -> None:
    check_not_future(approved_on, today, "approved_on", "审批日期", "approval date")
    if approved_on < branch_meeting_on:
        raise invalid("approved_before_meeting", "approved_on",
                      "上级审批不能早于支部大会 / the approval cannot precede the branch meeting")


def check_decision_dates(cmd: ProbationDecision, probation: Probation, today: date) -> None:
    check_not_future(cmd.branch_meeting_on, today, "branch_meeting_on", "支部大会日期", "branch meeting date")
    if cmd.branch_meeting_on < probation.started_on:
        raise invalid("before_probation", "branch_meeting_on",
                      f"日期早于预备期开始（{probation.started_on}） / before the probation began")
    check_approval(cmd.branch_meeting_on, cmd.approved_on, today)


def check_old_enough_to_apply(birth_date: date, applied_on: date, rules: DevelopmentRules) -> None:
    """党章第一条: 年满十八岁 (the rule table's age) on the application date."""
    if birth_date >= applied_on or age_on(birth_date, applied_on) < rules.min_applicant_age:
        raise invalid("under_age", "birth_date", f"申请时未满{rules.min_applicant_age}周岁 / the applicant was under "
                                                 f"{rules.min_applicant_age} on the application date")
