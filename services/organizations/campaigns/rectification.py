"""Rectification of weak/lax organizations (整顿软弱涣散基层党组织): one case per flagged
organization per campaign, id f"{campaign}.{organization_id}".

State machine: flagged → planned → (progress…) → township_accepted → rectified (验收销号, converted).
Extending is allowed from planned and township_accepted; from township_accepted it sends the case
back to planned, because an extension there means the county did not accept yet. Rectified is final;
a new problem is a new case in a later campaign, a relapse when it comes inside the follow-up year.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from services.organizations.campaigns.commands import (
    AcceptRectification, AcceptRectificationByTownship, AssignFirstSecretary, AssignLiaisonLeader,
    ExtendRectification, FlagOrganizationWeak, PlanRectification, ReplaceSecretary, ReportRectificationProgress,
)
from services.organizations.lifecycle.elections import add_months
from services.organizations.lifecycle.setting_rules import check_exists, check_not_dissolved
from services.organizations.registry.domain import Organization, check_not_future
from shared.aggregate import Aggregate
from shared.catalog.base import DomainEvent
from shared.catalog.campaigns import (
    BranchRectified, FirstSecretaryAssigned, LiaisonLeaderAssigned, OrganizationFlaggedWeak,
    RectificationAcceptedByTownship, RectificationExtended, RectificationPlanned, RectificationProgressReported,
    SecretaryReplaced,
)
from shared.catalog.rules import RuleTable
from shared.errors import conflict, invalid, not_found

OPEN = ("flagged", "planned", "township_accepted")


def case_id(campaign: str, organization_id: str) -> str:
    return f"{campaign}.{organization_id}"


class RectificationCase(Aggregate):
    """Every command method takes `today` (keyword) so handlers call them alike."""

    context, aggregate_type = "org", "rectification"

    def __init__(self, aggregate_id: str):
        super().__init__(aggregate_id)
        self.status: str | None = None
        self.organization_id: str | None = None
        self.campaign: str | None = None
        self.reasons: tuple[str, ...] = ()
        self.decided_on: date | None = None
        self.relapse_of: str | None = None
        self.plan: str | None = None
        self.measures: tuple[str, ...] = ()
        self.due_on: date | None = None
        self.liaison_leader: str | None = None
        self.secretary: str | None = None  # the latest replacement
        self.first_secretaries: list[FirstSecretaryAssigned] = []
        self.progress: list[RectificationProgressReported] = []
        self.township_accepted_on: date | None = None
        self.accepted_on: date | None = None
        self.follow_up_until: date | None = None

    def apply(self, event: DomainEvent) -> None:
        self.mark_exists()
        if isinstance(event, OrganizationFlaggedWeak):
            self.status, self.organization_id, self.campaign = "flagged", event.organization_id, event.campaign
            self.reasons, self.decided_on, self.relapse_of = event.reasons, event.decided_on, event.relapse_of
        elif isinstance(event, RectificationPlanned):
            self.status, self.plan, self.measures, self.due_on = "planned", event.plan, event.measures, event.due_on
            self.liaison_leader = event.liaison_leader or self.liaison_leader
        elif isinstance(event, SecretaryReplaced):
            self.secretary = event.new_name
        elif isinstance(event, FirstSecretaryAssigned):
            self.first_secretaries.append(event)
        elif isinstance(event, LiaisonLeaderAssigned):
            self.liaison_leader = event.leader_name
        elif isinstance(event, RectificationProgressReported):
            self.progress.append(event)
        elif isinstance(event, RectificationAcceptedByTownship):
            self.status, self.township_accepted_on = "township_accepted", event.accepted_on
        elif isinstance(event, BranchRectified):
            self.status, self.accepted_on, self.follow_up_until = "rectified", event.accepted_on, event.follow_up_until
        elif isinstance(event, RectificationExtended):
            self.status, self.due_on, self.township_accepted_on = "planned", event.new_due_on, None

    def flag(self, cmd: FlagOrganizationWeak, *, organization: Organization, rules: RuleTable, today: date,
             previous: RectificationCase | None = None) -> list[DomainEvent]:
        """`previous`: the organization's latest case of an earlier campaign, if any (relapse check)."""
        if self.id != case_id(cmd.campaign, cmd.organization_id):
            raise invalid("case_id_mismatch", "campaign", "整顿案例编号须为 批次.党组织编号 / case id must be "
                                                          "campaign.organization_id")
        if self.exists:
            raise conflict("already_flagged", f"该党组织已列入 {cmd.campaign} 批次整顿 / already listed in this campaign")
        check_exists(organization)
        check_not_dissolved(organization)
        reasons = check_weak_reasons(cmd.reasons, rules)
        check_not_future(cmd.decided_on, today, "decided_on", "县委确定日期", "decision date")
        if cmd.screened_on > cmd.decided_on:
            raise invalid("screened_after_decision", "screened_on",
                          "乡镇排查日期须早于县委确定日期 / screening comes before the county decision")
        relapse_of = None
        if previous is not None and previous.exists:
            if previous.organization_id != cmd.organization_id:
                raise invalid("previous_case_mismatch", "organization_id",
                              "前次整顿案例不属于该党组织 / the previous case is another organization's")
            if previous.status != "rectified":
                raise conflict("open_case_exists", f"该党组织仍在整顿中（{previous.id}），请延期原案例 / still under "
                                                   f"rectification in {previous.id}; extend that case instead")
            relapse_of = previous.id if is_relapse(previous, cmd.decided_on) else None
        return [OrganizationFlaggedWeak(case_id=self.id, organization_id=cmd.organization_id, campaign=cmd.campaign,
                                        reasons=reasons, screened_on=cmd.screened_on, decided_on=cmd.decided_on,
                                        relapse_of=relapse_of)]

    def plan_rectification(self, cmd: PlanRectification, *, today: date) -> list[DomainEvent]:
        check_status(self, ("flagged",))
        if self.decided_on is not None and cmd.due_on <= self.decided_on:
            raise invalid("due_before_decision", "due_on", "整顿期限须晚于县委确定日期 / due date must follow the decision")
        return [RectificationPlanned(case_id=self.id, plan=cmd.plan, measures=cmd.measures, due_on=cmd.due_on,
                                     liaison_leader=cmd.liaison_leader)]

    def replace_secretary(self, cmd: ReplaceSecretary, *, today: date) -> list[DomainEvent]:
        check_status(self, OPEN)
        check_not_future(cmd.replaced_on, today, "replaced_on", "调整日期", "replacement date")
        if cmd.previous_name == cmd.new_name:
            raise invalid("same_secretary", "new_name", "新任书记与原书记相同 / the new secretary is the previous one")
        return [SecretaryReplaced(case_id=self.id, previous_name=cmd.previous_name, new_name=cmd.new_name,
                                  replaced_on=cmd.replaced_on)]

    def assign_first_secretary(self, cmd: AssignFirstSecretary, *, today: date) -> list[DomainEvent]:
        check_status(self, OPEN)
        check_first_secretary_term(cmd.from_on, cmd.to_on)
        return [FirstSecretaryAssigned(case_id=self.id, person_name=cmd.person_name, from_on=cmd.from_on,
                                       to_on=cmd.to_on)]

    def assign_liaison_leader(self, cmd: AssignLiaisonLeader, *, today: date) -> list[DomainEvent]:
        check_status(self, OPEN)
        check_not_future(cmd.assigned_on, today, "assigned_on", "包联日期", "assignment date")
        return [LiaisonLeaderAssigned(case_id=self.id, leader_name=cmd.leader_name, assigned_on=cmd.assigned_on)]

    def report_progress(self, cmd: ReportRectificationProgress, *, today: date) -> list[DomainEvent]:
        check_status(self, ("planned",))
        check_not_future(cmd.reported_on, today, "reported_on", "报告日期", "report date")
        return [RectificationProgressReported(case_id=self.id, reported_on=cmd.reported_on, summary=cmd.summary)]

    def accept_by_township(self, cmd: AcceptRectificationByTownship, *, today: date) -> list[DomainEvent]:
        check_status(self, ("planned",))
        check_acceptance_date(cmd.accepted_on, self.decided_on, today)
        return [RectificationAcceptedByTownship(case_id=self.id, accepted_on=cmd.accepted_on,
                                                accepted_by=cmd.accepted_by)]

    def accept(self, cmd: AcceptRectification, *, rules: RuleTable, today: date) -> list[DomainEvent]:
        """县级验收销号; the follow-up year is fixed now from the rule table in force."""
        check_status(self, ("township_accepted",))
        check_acceptance_date(cmd.accepted_on, self.township_accepted_on, today)
        assert self.organization_id is not None
        return [BranchRectified(case_id=self.id, organization_id=self.organization_id, accepted_on=cmd.accepted_on,
                                accepted_by=cmd.accepted_by,
                                follow_up_until=follow_up_until(cmd.accepted_on, rules))]

    def extend(self, cmd: ExtendRectification, *, today: date) -> list[DomainEvent]:
        check_status(self, ("planned", "township_accepted"))
        if self.due_on is not None and cmd.new_due_on <= self.due_on:
            raise invalid("extension_not_later", "new_due_on",
                          f"新期限须晚于现期限 {self.due_on} / the new due date must be after {self.due_on}")
        return [RectificationExtended(case_id=self.id, new_due_on=cmd.new_due_on, reason=cmd.reason)]


# --- pure helpers -----------------------------------------------------------------------------------

def follow_up_until(accepted_on: date, rules: RuleTable) -> date:
    """验收销号后跟踪一年: the end of the follow-up after county acceptance."""
    return add_months(accepted_on, rules.follow_up_months)


def is_relapse(previous: RectificationCase, flagged_on: date) -> bool:
    """Flagged again before the previous case's follow-up ended (uses the follow-up fixed at its acceptance)."""
    return (previous.status == "rectified" and previous.follow_up_until is not None
            and flagged_on < previous.follow_up_until)


def overdue(case: RectificationCase, today: date) -> bool:
    return case.status in OPEN and case.due_on is not None and case.due_on < today


def conversion_rate(cases: Iterable[RectificationCase], campaign: str | None = None) -> float | None:
    """转化率 = rectified ÷ listed (optionally of one campaign); None when nothing was listed."""
    listed = [c for c in cases if c.exists and (campaign is None or c.campaign == campaign)]
    return sum(c.status == "rectified" for c in listed) / len(listed) if listed else None


# --- invariants -------------------------------------------------------------------------------------

STATE_REFUSALS = {
    "already_rectified": "已验收销号 / already rectified and delisted",
    "not_planned": "尚未制定整顿方案（一村一策） / no rectification plan yet",
    "already_planned": "已制定整顿方案，调整期限请用延期 / already planned; extend to move the due date",
    "already_accepted_by_township": "乡镇已验收，待县级验收 / the township already accepted; the county is next",
    "township_acceptance_missing": "县级验收前须经乡镇验收 / the township must accept before the county",
}


def check_status(case: RectificationCase, allowed: tuple[str, ...]) -> None:
    """Never flagged → 404 not_flagged; otherwise 409 with a code saying why the state does not fit."""
    if not case.exists:
        raise not_found("not_flagged", f"{case.id} 未列入软弱涣散党组织整顿 / case {case.id} was never flagged")
    if case.status in allowed:
        return
    if case.status == "rectified":
        code = "already_rectified"
    elif case.status == "flagged":
        code = "not_planned"
    elif case.status == "township_accepted" and "planned" in allowed:
        code = "already_accepted_by_township"
    elif "flagged" in allowed:
        code = "already_planned"
    else:
        code = "township_acceptance_missing"
    raise conflict(code, f"{case.id}: {STATE_REFUSALS[code]}")


def check_weak_reasons(reasons: tuple[str, ...], rules: RuleTable) -> tuple[str, ...]:
    """At least one reason, each from the rule table; duplicates collapse (order kept)."""
    valid = "、".join(f"{r.code}（{r.name}）" for r in rules.weak_reasons)
    if not reasons:
        raise invalid("no_reasons", "reasons", f"须至少选择一种软弱涣散情形：{valid} / at least one reason is required")
    unknown = [code for code in reasons if rules.weak_reason(code) is None]
    if unknown:
        raise invalid("unknown_weak_reason", "reasons",
                      f"未知情形 {unknown}；可选：{valid} / unknown reason codes {unknown}; valid codes: "
                      f"{', '.join(r.code for r in rules.weak_reasons)}")
    return tuple(dict.fromkeys(reasons))


def check_first_secretary_term(from_on: date, to_on: date) -> None:
    if not add_months(from_on, 12) <= to_on <= add_months(from_on, 36):
        raise invalid("first_secretary_term", "to_on",
                      "第一书记任期须为1至3年 / a first secretary serves 1 to 3 years")


def check_acceptance_date(accepted_on: date, earliest: date | None, today: date) -> None:
    check_not_future(accepted_on, today, "accepted_on", "验收日期", "acceptance date")
    if earliest is not None and accepted_on < earliest:
        raise invalid("accepted_too_early", "accepted_on",
                      f"验收日期不能早于 {earliest} / acceptance cannot be before {earliest}")
