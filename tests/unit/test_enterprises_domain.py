"""Rules about 两新组织 on the Enterprise aggregate and found_branch alone (no log, no network)."""
from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from services.organizations.enterprises.commands import (
    AssignInstructor, CloseEnterprise, FoundEnterpriseBranch, RecordMassOrganization, RegisterEnterprise,
    ReopenEnterprise, UpdateHeadcount, WithdrawInstructor,
)
from services.organizations.enterprises.domain import Enterprise
from services.organizations.enterprises.founding import found_branch, found_organization, founded_organization_type
from services.organizations.registry.domain import Organization
from services.organizations.rules.baseline import NATIONAL_BASELINE
from services.organizations.enterprises.uscc import uscc_from_parts
from shared.catalog.enterprises import (
    EnterpriseBranchFounded, EnterpriseClosed, EnterpriseRegistered, InstructorAssigned, MassOrganizationEstablished,
)
from shared.catalog.organizations import OrganizationEstablished
from shared.catalog.rules import SettingRule
from tests.unit.domain_support import folded, refused

TODAY = date(2025, 6, 30)
SEAFOOD_USCC = uscc_from_parts("450503", "MA5K3T01")


SEAFOOD = {"enterprise_id": "seafood"}  # the unit most commands act on


def register_cmd(**kw) -> RegisterEnterprise:
    data = dict(uscc=SEAFOOD_USCC, name="北海市某海产品加工有限公司", unit_type="非公企业", township_id="qiaogang",
                industry="制造业", employees=86, full_members=4, probationary_members=1, registered_on=date(2019, 3, 1))
    return RegisterEnterprise(**{**data, **kw})


def registered(eid="seafood", **kw) -> Enterprise:
    unit = Enterprise(eid)
    n = sum(map(ord, eid)) % 10_000_000
    cmd = register_cmd(**{"uscc": uscc_from_parts("450503", f"{n:08d}"), "name": f"北海市{eid}有限公司", **kw})
    return folded(unit, unit.register(cmd, uscc_taken=False, township_exists=True, today=TODAY))


def test_register_normalizes_and_folds():
    unit = Enterprise("seafood")
    events = unit.register(register_cmd(uscc=SEAFOOD_USCC.lower(), fixed_premises="是", above_scale="是"),
                           uscc_taken=False, township_exists=True, today=TODAY)
    assert not unit.exists  # deciding never mutates
    (ev,) = events
    assert isinstance(ev, EnterpriseRegistered) and ev.uscc == SEAFOOD_USCC
    assert (ev.unit_type, ev.operating_status, ev.fixed_premises, ev.above_scale) == (
        "private_enterprise", "operating", True, True)
    state = folded(unit, events).snapshot()
    assert (state.name, state.employees, state.full_members, state.status) == ("北海市某海产品加工有限公司", 86, 4,
                                                                               "operating")
    assert state.organization_id is None and state.mass_organizations == frozenset()


def test_register_refusals():
    unit = registered()
    assert refused(lambda: unit.register(register_cmd(), uscc_taken=False, township_exists=True, today=TODAY)
                   ).code == "enterprise_exists"
    fresh = Enterprise("other")
    wrong = SEAFOOD_USCC[:-1] + ("0" if SEAFOOD_USCC[-1] != "0" else "1")  # wrong check character
    bad = refused(lambda: fresh.register(register_cmd(uscc=wrong), uscc_taken=False, township_exists=True, today=TODAY))
    assert (bad.code, bad.status, bad.errors[0].field) == ("uscc_bad_check_character", 422, "uscc")
    taken = refused(lambda: fresh.register(register_cmd(), uscc_taken=True, township_exists=True, today=TODAY))
    assert (taken.code, taken.status) == ("uscc_taken", 409) and SEAFOOD_USCC in taken.detail
    town = refused(lambda: fresh.register(register_cmd(), uscc_taken=False, township_exists=False, today=TODAY))
    assert (town.code, town.status) == ("township_not_found", 404)
    future = refused(lambda: fresh.register(register_cmd(registered_on=date(2025, 7, 1)), uscc_taken=False,
                                            township_exists=True, today=TODAY))
    assert future.code == "registered_on_in_future"
    crowd = refused(lambda: fresh.register(register_cmd(employees=4, full_members=4, probationary_members=1),
                                           uscc_taken=False, township_exists=True, today=TODAY))
    assert crowd.code == "members_exceed_employees"


def test_command_shapes_and_aliases():
    assert register_cmd(unit_type="社会组织", operating_status="停产").operating_status == "suspended"
    with pytest.raises(ValidationError):
        register_cmd(unit_type="国有企业")
    with pytest.raises(ValidationError):
        register_cmd(employees=-1)
    with pytest.raises(ValidationError):
        register_cmd(county="450503")  # extra fields are refused
    assert CloseEnterprise(**SEAFOOD, status="注销", closed_on=TODAY, reason="吊销").status == "deregistered"
    assert AssignInstructor(**SEAFOOD, person_name="陈海生", role="联络员", assigned_on=TODAY).role == "liaison"
    assert RecordMassOrganization(**SEAFOOD, kind="妇联", established_on=TODAY).kind == "womens_federation"
    with pytest.raises(ValidationError):
        found_cmd(["a", "a"])
    with pytest.raises(ValidationError):
        found_cmd([f"u{i}" for i in range(51)], mode="joint")
    assert found_cmd(["a", "b"], mode="联合组建").founding_mode == "joint"


def test_headcount_close_and_reopen():
    unit = registered()
    ghost = UpdateHeadcount(enterprise_id="ghost", employees=1, full_members=0, effective_on=TODAY)
    assert refused(lambda: Enterprise("ghost").update_headcount(ghost, today=TODAY)).status == 404
    same = UpdateHeadcount(**SEAFOOD, employees=86, full_members=4, probationary_members=1, effective_on=date(2024, 1, 1))
    assert unit.update_headcount(same, today=TODAY) == []
    early = UpdateHeadcount(**SEAFOOD, employees=90, full_members=5, effective_on=date(2018, 1, 1))
    assert refused(lambda: unit.update_headcount(early, today=TODAY)).code == "effective_on_too_early"
    more = UpdateHeadcount(**SEAFOOD, employees=90, full_members=5, effective_on=date(2024, 1, 1))
    folded(unit, unit.update_headcount(more, today=TODAY))
    assert (unit.employees, unit.full_members, unit.probationary_members) == (90, 5, 0)

    assert refused(lambda: unit.reopen(ReopenEnterprise(**SEAFOOD, reopened_on=TODAY, reason="复工"), today=TODAY)
                   ).code == "not_closed"
    stop = CloseEnterprise(**SEAFOOD, status="停产", closed_on=date(2024, 8, 1), reason="休渔期停产")
    (closed,) = unit.close(stop, today=TODAY)
    assert isinstance(closed, EnterpriseClosed) and unit.status == "operating"
    folded(unit, [closed])
    suspend = CloseEnterprise(**SEAFOOD, status="suspended", closed_on=TODAY, reason="x")
    again = refused(lambda: unit.close(suspend, today=TODAY))
    assert (again.code, again.status) == ("already_closed", 409)
    too_soon = ReopenEnterprise(**SEAFOOD, reopened_on=date(2024, 7, 1), reason="复工")
    assert refused(lambda: unit.reopen(too_soon, today=TODAY)).code == "reopened_on_too_early"
    folded(unit, unit.reopen(ReopenEnterprise(**SEAFOOD, reopened_on=date(2024, 9, 16), reason="开海复工"), today=TODAY))
    assert unit.status == "operating"
    folded(unit, unit.close(CloseEnterprise(**SEAFOOD, status="deregistered", closed_on=TODAY, reason="注销"),
                            today=TODAY))
    assert refused(lambda: unit.close(suspend, today=TODAY)).code == "already_closed"


def test_instructor_one_at_a_time():
    unit = registered()
    assign = AssignInstructor(**SEAFOOD, person_name="陈海生", role="党建指导员", assigned_on=date(2024, 3, 1))
    (ev,) = unit.assign_instructor(assign, today=TODAY)
    assert isinstance(ev, InstructorAssigned) and unit.instructor is None
    folded(unit, [ev])
    assert unit.instructor == ("陈海生", "instructor")
    assert refused(lambda: unit.assign_instructor(assign, today=TODAY)).code == "instructor_assigned"
    early = WithdrawInstructor(**SEAFOOD, withdrawn_on=date(2024, 2, 1))
    assert refused(lambda: unit.withdraw_instructor(early, today=TODAY)).code == "withdrawn_on_too_early"
    folded(unit, unit.withdraw_instructor(WithdrawInstructor(**SEAFOOD, withdrawn_on=date(2025, 1, 2), reason="调任"),
                                          today=TODAY))
    assert unit.instructor is None
    assert refused(lambda: unit.withdraw_instructor(WithdrawInstructor(**SEAFOOD, withdrawn_on=TODAY), today=TODAY)
                   ).code == "no_instructor"


def test_mass_organization_recorded_once():
    unit = registered()
    cmd = RecordMassOrganization(**SEAFOOD, kind="工会", established_on=date(2020, 5, 1))
    (ev,) = unit.record_mass_organization(cmd, today=TODAY)
    assert isinstance(ev, MassOrganizationEstablished) and ev.kind == "trade_union"
    folded(unit, [ev])
    err = refused(lambda: unit.record_mass_organization(cmd, today=TODAY))
    assert (err.code, err.status) == ("mass_organization_exists", 409) and "工会" in err.detail


# --- founding across units ---

def found_cmd(ids, mode="standalone", **kw) -> FoundEnterpriseBranch:
    return FoundEnterpriseBranch(enterprise_ids=ids, founding_mode=mode, organization_name="侨港镇海产品加工企业联合党支部",
                                 approved_by="中共侨港镇委员会", approved_on=kw.pop("approved_on", date(2024, 6, 20)),
                                 founded_on=kw.pop("founded_on", date(2024, 7, 1)), **kw)


def with_severity(code: str, severity: str, threshold: int | None = None):
    setting = tuple(SettingRule(**{**r.model_dump(), "severity": severity,
                                   "threshold": threshold if threshold is not None else r.threshold})
                    if r.code == code else r for r in NATIONAL_BASELINE.setting)
    return NATIONAL_BASELINE.model_copy(update={"setting": setting})


def test_standalone_founding():
    unit = registered()
    events, warnings = found_branch(found_cmd(["seafood"]), [unit], NATIONAL_BASELINE, "org-seafood", TODAY)
    assert warnings == [] and unit.organization_id is None
    ((eid, ev),) = events
    assert eid == "seafood" and isinstance(ev, EnterpriseBranchFounded)
    assert (ev.organization_id, ev.founding_mode, ev.covered_enterprise_ids) == ("org-seafood", "standalone",
                                                                                 ("seafood",))
    folded(unit, [ev])
    err = refused(lambda: found_branch(found_cmd(["seafood"]), [unit], NATIONAL_BASELINE, "org-2", TODAY))
    assert (err.code, err.status) == ("already_organized", 409) and "北海市seafood有限公司" in err.detail


def test_standalone_counts_full_members_only():
    small = registered("shrimp", full_members=2, probationary_members=3)
    err = refused(lambda: found_branch(found_cmd(["shrimp"]), [small], NATIONAL_BASELINE, "o", TODAY))
    assert (err.code, err.status) == ("too_few_full_members", 422) and "预备党员不计入" in err.detail
    relaxed = with_severity("own_branch_min_full_members", "generally")
    events, warnings = found_branch(found_cmd(["shrimp"]), [small], relaxed, "o", TODAY)
    assert len(events) == 1 and "不足3名" in warnings[0]
    pair = [registered("a"), registered("b")]
    assert refused(lambda: found_branch(found_cmd(["a", "b"]), pair, NATIONAL_BASELINE, "o", TODAY)
                   ).code == "standalone_one_unit"


def test_joint_founding_covers_several_units():
    units = [registered(f"u{i}", full_members=1 if i else 3) for i in range(6)]
    ids = [u.id for u in units]
    one = refused(lambda: found_branch(found_cmd(ids[:1], "joint"), units, NATIONAL_BASELINE, "o", TODAY))
    assert one.code == "joint_needs_several_units"
    events, warnings = found_branch(found_cmd(ids, "building"), units, NATIONAL_BASELINE, "org-tower", TODAY)
    assert [eid for eid, _ in events] == ids
    assert all(ev.covered_enterprise_ids == tuple(ids) and ev.founding_mode == "building" for _, ev in events)
    assert any("超过5个" in w for w in warnings)  # "generally" ≤5 units: a warning
    assert any("可单独组建" in w and "u0" in w for w in warnings)
    strict = with_severity("joint_branch_max_units", "must")
    assert refused(lambda: found_branch(found_cmd(ids, "area"), units, strict, "o", TODAY)
                   ).code == "joint_too_many_units"


def test_founding_needs_existing_operating_units_and_order_of_dates():
    a, b = registered("a"), registered("b")
    missing = refused(lambda: found_branch(found_cmd(["a", "ghost"], "joint"), [a, b], NATIONAL_BASELINE, "o", TODAY))
    assert (missing.code, missing.status) == ("enterprise_not_found", 404) and "ghost" in missing.detail
    folded(b, b.close(CloseEnterprise(enterprise_id="b", status="停产", closed_on=date(2024, 1, 1), reason="停产"), today=TODAY))
    assert refused(lambda: found_branch(found_cmd(["a", "b"], "joint"), [a, b], NATIONAL_BASELINE, "o", TODAY)
                   ).code == "enterprise_not_operating"
    c = registered("c")
    late = found_cmd(["a", "c"], "joint", approved_on=date(2024, 7, 2))
    assert refused(lambda: found_branch(late, [a, c], NATIONAL_BASELINE, "o", TODAY)).code == "founded_before_approval"
    future = found_cmd(["a", "c"], "joint", founded_on=date(2025, 7, 1))
    assert refused(lambda: found_branch(future, [a, c], NATIONAL_BASELINE, "o", TODAY)).code == "founded_on_in_future"
    early = found_cmd(["a", "c"], "joint", approved_on=date(2018, 1, 1), founded_on=date(2018, 2, 1))
    assert refused(lambda: found_branch(early, [a, c], NATIONAL_BASELINE, "o", TODAY)
                   ).code == "founded_before_registration"


def test_a_founding_establishes_the_organization_its_mode_calls_for_with_every_unit_marked():
    unit = registered("seafood")
    decision = found_organization(found_cmd(["seafood"]), [unit], Organization("org-seafood"), NATIONAL_BASELINE,
                                  TODAY)
    (org, [established]), (marked, [founded]) = decision.changes
    assert (org.id, established.organization_type, established.host_unit_type, established.township_id) == (
        "org-seafood", "branch", unit.unit_type, unit.township_id)
    assert marked is unit and founded.organization_id == "org-seafood"
    assert decision.answer.enterprise_ids == ["seafood"] and decision.answer.warnings == []
    units = [registered(eid) for eid in ("a", "b", "c")]
    decision = found_organization(found_cmd(["b", "a", "c"], "楼宇共建"), units, Organization("tower"),
                                  NATIONAL_BASELINE, TODAY)
    assert decision.changes[0][1][0].organization_type == "joint_branch"
    assert [agg.id for agg, _ in decision.changes] == ["tower", "b", "a", "c"]  # hosted by the first listed
    assert founded_organization_type("standalone") == "branch"
    assert {founded_organization_type(m) for m in ("joint", "industry", "area", "building")} == {"joint_branch"}


def test_a_founding_never_reuses_an_existing_organization():
    taken = folded(Organization("org-1"), [OrganizationEstablished(
        organization_id="org-1", name="侨港村党支部", organization_type="branch", host_unit_type="village",
        approved_by="中共侨港镇委员会", approved_on=date(2019, 5, 4))])
    err = refused(lambda: found_organization(found_cmd(["seafood"]), [registered()], taken, NATIONAL_BASELINE, TODAY))
    assert (err.status, err.code) == (409, "organization_exists")
