"""党群服务中心, pure: standards per level, inspections, 挂牌, coverage as of a date, upgrade plans and
the registry spreadsheet both ways."""
from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import load_workbook

from shared.catalog.centres import CentreStandards
from shared.catalog.organizations import OrganizationEstablished
from shared.catalog.lifecycle import OrganizationDissolved
from shared.errors import DomainError
from services.organizations.centres.centre_sheet import parse_centre_file, register_centres, registry_xlsx
from services.organizations.centres.commands import (CloseCentre, InspectCentre, PlanCentreUpgrade, PlaqueCentre, RegisterCentre,
                                                     ReportUpgradeProgress, UpdateCentreFacilities)
from services.organizations.centres.coverage import coverage, places_as_of
from services.organizations.centres.domain import Centre, CentreStandardsBook, fold_as_of
from services.organizations.centres.standards import BASELINE_STANDARDS
from services.organizations.registry.domain import Organization

TODAY = date(2026, 6, 30)
FULL = dict(zones=["日常办公区", "综合服务区", "活动区", "教育培训区"], windows=["党员服务", "帮办代办"], signage=True,
            night_visible=True)


def village_org(oid="qg-village", township="qiaogang", name="侨港村党委", host="village", parent=None):
    return OrganizationEstablished(organization_id=oid, name=name, organization_type="primary_committee",
                                   host_unit_type=host, parent_id=parent, township_id=township,
                                   approved_by="中共侨港镇委员会", approved_on=date(2019, 5, 4))


def organization(event) -> Organization:
    org = Organization(event.organization_id)
    org.apply(event)
    return org


def registered(centre_id="c1", level="village", area=220, served=None, **kw) -> Centre:
    centre = Centre(centre_id)
    cmd = RegisterCentre(name=kw.pop("name", "侨港村党群服务中心"), level=level,
                         township_id=None if level == "county" else "qiaogang",
                         organization_id="qg-village" if level == "village" else None, floor_area_m2=area,
                         opened_on=date(2025, 3, 1), **{**FULL, **kw})
    for e in centre.register(cmd, township_exists=True, served=served or organization(village_org()), today=TODAY):
        centre.apply(e)
    return centre


def inspect(centre: Centre, on=date(2025, 6, 1), met=("rules_displayed",)):
    events = centre.inspect(InspectCentre(centre_id=centre.id, inspected_on=on, inspected_by="县委组织部", met=met),
                            standards=BASELINE_STANDARDS, today=TODAY)
    for e in events:
        centre.apply(e)
    return events


def test_an_inspection_checks_the_record_against_its_level_and_the_on_site_items():
    big, small = registered("big"), registered("small", area=150, night_visible=False)
    assert inspect(big)[0].passed and big.to_standard
    found = inspect(small, met=())[0]
    assert not found.passed and found.missing == ("floor_area", "night_visible", "rules_displayed")
    assert "zone:education" in found.met and "window:proxy_services" in found.met
    with pytest.raises(DomainError) as refused:
        inspect(big, met=("coffee_machine",))
    assert refused.value.code == "unknown_standard"


def test_only_a_centre_found_to_standard_is_plaqued_and_only_once():
    centre = registered(area=150)
    inspect(centre)
    plaque = PlaqueCentre(centre_id=centre.id, plaqued_on=date(2025, 7, 1), approved_by="县委组织部")
    with pytest.raises(DomainError) as refused:
        centre.plaque(plaque, today=TODAY)
    assert refused.value.code == "centre_not_to_standard"
    for e in centre.update_facilities(UpdateCentreFacilities(centre_id=centre.id, floor_area_m2=260,
                                                             effective_on=date(2025, 6, 20), **FULL), today=TODAY):
        centre.apply(e)
    inspect(centre, on=date(2025, 6, 25))
    for e in centre.plaque(plaque, today=TODAY):
        centre.apply(e)
    with pytest.raises(DomainError) as again:
        centre.plaque(plaque, today=TODAY)
    assert again.value.code == "centre_plaqued"


def test_a_failed_inspection_takes_the_plaque_off_and_a_closed_centre_leaves_the_counts():
    centre = Centre("c1")
    history = centre.register(RegisterCentre(name="侨港村党群服务中心", level="village", township_id="qiaogang",
                                             organization_id="qg-village", floor_area_m2=220,
                                             opened_on=date(2025, 3, 1), **FULL),
                              township_exists=True, served=organization(village_org()), today=TODAY)
    for e in history:
        centre.apply(e)
    history += inspect(centre)
    history += centre.plaque(PlaqueCentre(centre_id=centre.id, plaqued_on=date(2025, 7, 1), approved_by="县委组织部"),
                             today=TODAY)
    for e in history[-1:]:
        centre.apply(e)
    failed = inspect(centre, on=date(2026, 3, 1), met=())  # the on-site item no longer met
    assert [type(e).__name__ for e in failed] == ["CentreInspected", "CentrePlaqueRemoved"]
    assert failed[1].removed_on == date(2026, 3, 1) and "rules_displayed" in failed[1].reason
    assert centre.plaqued_on is None and not centre.to_standard
    assert inspect(centre, on=date(2026, 3, 2), met=())[1:] == []  # nothing more to take off
    history += failed
    # as of a date before the failed inspection it was plaqued
    assert fold_as_of(history, date(2026, 2, 28))[centre.id].plaqued_on == date(2025, 7, 1)
    assert fold_as_of(history, date(2026, 3, 1))[centre.id].plaqued_on is None

    close = CloseCentre(centre_id=centre.id, closed_on=date(2026, 2, 1), reason="村居合并", decided_by="县委组织部")
    with pytest.raises(DomainError) as early:  # before the last inspection recorded
        centre.close(close, today=TODAY)
    assert early.value.errors[0].field == "closed_on"
    closed = centre.close(close.model_copy(update={"closed_on": date(2026, 4, 1)}), today=TODAY)
    for e in closed:
        centre.apply(e)
    history += closed
    assert set(fold_as_of(history, date(2026, 3, 31))) == {centre.id}
    assert fold_as_of(history, date(2026, 4, 1)) == {}  # gone from the counts from its closing date
    with pytest.raises(DomainError) as after:
        inspect(centre, on=date(2026, 5, 1))
    assert after.value.code == "centre_closed" and after.value.status == 409


def test_a_village_centre_serves_a_village_organization_of_its_township():
    other = organization(village_org(oid="gd", township="gaode", name="高德社区党委", host="community"))
    with pytest.raises(DomainError) as refused:
        registered(served=other)
    assert refused.value.code == "not_a_place_of_level"
    with pytest.raises(DomainError) as county_in_township:
        Centre("c").register(RegisterCentre(name="银海区党群服务中心", level="县级", township_id="qiaogang",
                                            floor_area_m2=1200, opened_on=date(2025, 1, 1)),
                             township_exists=True, served=None, today=TODAY)
    assert county_in_township.value.code == "county_centre_in_township"


def test_standards_are_adopted_whole_and_apply_from_their_date():
    book = CentreStandardsBook("450503")
    with pytest.raises(DomainError) as partial:
        book.adopt(CentreStandards(levels=BASELINE_STANDARDS.levels[:3], effective_from=date(2026, 1, 1)))
    assert partial.value.code == "centre_levels_missing"
    stricter = BASELINE_STANDARDS.model_copy(update={"effective_from": date(2026, 1, 1), "levels": tuple(
        s.model_copy(update={"min_floor_area_m2": 250}) if s.level == "village" else s
        for s in BASELINE_STANDARDS.levels)})
    for e in book.adopt(stricter):
        book.apply(e)
    assert book.in_force(date(2025, 12, 31)).for_level("village").min_floor_area_m2 == 200
    assert book.in_force(date(2026, 1, 1)).for_level("village").min_floor_area_m2 == 250


def test_coverage_counts_places_served_by_a_centre_to_standard_as_of_a_date():
    orgs = [village_org(), village_org(oid="qg-branch", name="侨港村第一党支部", parent="qg-village"),  # same village
            village_org(oid="dj", name="电建社区党委", host="community"),
            village_org(oid="old", name="旧村党支部"),
            OrganizationDissolved(organization_id="old", reason="撤村", approved_by="县委", approved_on=date(2025, 1, 1))]
    good, poor = registered("good"), registered("poor", area=120, name="侨港村党群服务站")
    events = [*inspect(good), *inspect(poor)]
    centres = fold_as_of([*_registered_events(good), *_registered_events(poor), *events], date(2025, 6, 1))
    places = places_as_of("450503", "银海区", {"qiaogang": "侨港镇"}, orgs, date(2025, 6, 1))
    assert sorted((p.level, p.place_id) for p in places) == [
        ("community", "dj"), ("county", "450503"), ("township", "qiaogang"), ("village", "qg-village")]
    report = coverage(centres.values(), places, BASELINE_STANDARDS, date(2025, 6, 1))
    village = next(r for r in report["rows"] if r["level"] == "village")
    assert (village["centres"], village["to_standard"], village["standard_rate"]) == (2, 1, 0.5)
    assert (village["places"], village["covered"], village["coverage_rate"]) == (1, 1, 1.0)
    assert report["total"]["places"] == 4 and report["total"]["covered"] == 1 and not report["target_met"]
    assert {g["place_id"] for g in report["shortfall"]} == {"450503", "qiaogang", "dj"}
    before = fold_as_of([*_registered_events(good), *events], date(2025, 5, 31))
    assert not coverage(before.values(), places, BASELINE_STANDARDS, date(2025, 5, 31))["rows"][2]["covered"]


def _registered_events(centre: Centre):
    return Centre(centre.id).register(
        RegisterCentre(name=centre.name, level=centre.level, township_id=centre.township_id,
                       organization_id=centre.organization_id, floor_area_m2=centre.floor_area_m2, zones=centre.zones,
                       windows=centre.windows, signage=centre.signage, night_visible=centre.night_visible,
                       opened_on=centre.opened_on), township_exists=True, served=organization(village_org()),
        today=TODAY)


def test_upgrade_progress_runs_forward_within_the_year_s_plan():
    centre = registered(area=150)
    for e in centre.plan_upgrade(PlanCentreUpgrade(centre_id=centre.id, year=2026, kind="提升改造",
                                                   items=["扩建活动区至260平方米"], due_on=date(2026, 10, 1),
                                                   planned_on=date(2026, 2, 1)), today=TODAY):
        centre.apply(e)
    for e in centre.report_progress(ReportUpgradeProgress(centre_id=centre.id, year=2026, percent=60, note="主体完工",
                                                          reported_on=date(2026, 5, 1)), today=TODAY):
        centre.apply(e)
    with pytest.raises(DomainError) as backwards:
        centre.report_progress(ReportUpgradeProgress(centre_id=centre.id, year=2026, percent=40, note="返工",
                                                     reported_on=date(2026, 6, 1)), today=TODAY)
    assert backwards.value.code == "progress_backwards"
    with pytest.raises(DomainError) as unplanned:
        centre.report_progress(ReportUpgradeProgress(centre_id=centre.id, year=2025, percent=10, note="x",
                                                     reported_on=date(2026, 6, 1)), today=TODAY)
    assert unplanned.value.code == "upgrade_not_planned"


def test_the_exported_registry_imports_again_as_the_same_centres():
    content = ("名称,层级,乡镇,村社区党组织,面积（平方米）,功能区,服务窗口,标识,夜间可视,建成日期\n"
               "侨港村党群服务中心,村,侨港镇,侨港村党委,220,日常办公区、综合服务区、活动区、教育培训区,党员服务、帮办代办,是,是,2025/3/1\n"
               "侨港镇党群服务中心,乡镇,qiaogang,,400,活动区,党员服务,是,否,2024年5月1日\n").encode()
    townships, organizations = {"qiaogang": "qiaogang", "侨港镇": "qiaogang"}, {"qg-village": "qg-village",
                                                                              "侨港村党委": "qg-village"}
    plan = parse_centre_file("centres.csv", content, townships, organizations)
    assert not plan.errors and [r.level for r in plan.rows] == ["village", "township"]
    assert plan.rows[0].zones == ("daily_office", "integrated_services", "activities", "education")
    decision = register_centres("450503", plan.rows, plan.row_numbers, _empty_centres(plan), {"qiaogang"},
                                {"qg-village": organization(village_org())}, import_id="i", today=TODAY)
    assert decision.answer.imported == 2
    centres = [c for c, _ in decision.changes]
    for centre, events in decision.changes:
        for e in events:
            centre.apply(e)
    entries = [{"centre_id": c.id, "name": c.name, "kind": c.kind, "level": c.level, "township_id": c.township_id,
                "organization_id": c.organization_id, "floor_area_m2": c.floor_area_m2, "zones": list(c.zones),
                "windows": list(c.windows), "signage": c.signage, "night_visible": c.night_visible,
                "address": c.address, "opened_on": c.opened_on, "inspected_on": None, "to_standard": False,
                "missing": [], "plaqued_on": None} for c in centres]
    sheet = registry_xlsx(entries, {"qiaogang": "侨港镇"}, {"qg-village": "侨港村党委"})
    assert load_workbook(io.BytesIO(sheet)).active["A2"].value == "侨港村党群服务中心"
    again = parse_centre_file("台账.xlsx", sheet, townships, organizations)
    assert not again.errors and again.rows == plan.rows


def test_a_bad_row_is_named_and_refuses_the_file():
    content = "名称,层级,乡镇,面积,功能区,建成日期\n甲中心,村庄,侨港镇,200,活动区,2025-01-01\n乙中心,村,侨港镇,两百,书房,\n".encode()
    plan = parse_centre_file("c.csv", content, {"侨港镇": "qiaogang"}, {})
    assert {(e.row, e.field) for e in plan.errors} == {(2, "level"), (3, "floor_area_m2"), (3, "zones"),
                                                       (3, "opened_on")}


def _empty_centres(plan):
    from services.organizations.centres.centre_sheet import centre_id_of
    return {centre_id_of("450503", r): Centre(centre_id_of("450503", r)) for r in plan.rows}
