"""Notification rules (pure): which event becomes which Chinese notification, with stable ids, the county's
settings from their effective date, scope and subscription matching."""
from __future__ import annotations

from datetime import date

from shared.catalog.campaigns import BranchRectified, OrganizationClassified, OrganizationFlaggedWeak
from shared.catalog.notifications import NotificationRulesAdopted
from shared.catalog.organizations import OrganizationEstablished
from services.notifications.domain import RuleSettings, matches, notification_id, visible_to
from services.notifications.rules import OrgFacts, notifications_for

COUNTY = "450503"


class Facts:
    def __init__(self, grades=None):
        self.grades = grades or {}

    def organization(self, organization_id):
        return {"qiaogang-village": OrgFacts("侨港镇侨港村党支部", "qiaogang")}.get(organization_id, OrgFacts())

    def case_organization(self, case_id):
        return "qiaogang-village"

    def previous_grade(self, organization_id, year):
        return self.grades.get((organization_id, year - 1))


FLAGGED = OrganizationFlaggedWeak(case_id="2026.qiaogang-village", organization_id="qiaogang-village", campaign="2026",
                                  reasons=("secretary_unfit",), screened_on=date(2026, 1, 10), decided_on=date(2026, 1, 20))


def test_a_weak_flag_is_a_critical_notification_about_the_organization():
    [n] = notifications_for(COUNTY, "OrganizationFlaggedWeak", FLAGGED, "ev-1", Facts(), RuleSettings())
    assert n.kind == "organization_flagged_weak" and n.severity == "critical"
    assert n.title == "侨港镇侨港村党支部被列为软弱涣散党组织" and "secretary_unfit" in n.summary
    assert (n.organization_id, n.township_id, n.event_ids) == ("qiaogang-village", "qiaogang", ("ev-1",))
    assert n.link == "/api/v1/counties/450503/rectification-cases/2026.qiaogang-village"
    # deciding it again gives the same id: the log refuses the second one
    again = notifications_for(COUNTY, "OrganizationFlaggedWeak", FLAGGED, "ev-1", Facts(), RuleSettings())
    assert again[0].notification_id == n.notification_id == notification_id(COUNTY, n.kind, "ev-1")


def test_a_flag_during_follow_up_is_a_relapse():
    relapse = FLAGGED.model_copy(update={"relapse_of": "2025.qiaogang-village"})
    [n] = notifications_for(COUNTY, "OrganizationFlaggedWeak", relapse, "ev-2", Facts(), RuleSettings())
    assert n.kind == "rectification_relapsed" and "2025.qiaogang-village" in n.summary


def test_classification_notifies_only_a_change_of_class():
    ev = OrganizationClassified(organization_id="qiaogang-village", year=2026, grade="lagging", item_set="five_goods",
                                items={}, programme="remedy", classified_on=date(2026, 12, 1))
    assert notifications_for(COUNTY, "OrganizationClassified", ev, "e", Facts(), RuleSettings()) == []
    same = Facts({("qiaogang-village", 2025): "lagging"})
    assert notifications_for(COUNTY, "OrganizationClassified", ev, "e", same, RuleSettings()) == []
    [down] = notifications_for(COUNTY, "OrganizationClassified", ev, "e",
                               Facts({("qiaogang-village", 2025): "advanced"}), RuleSettings())
    assert down.kind == "organization_demoted" and down.title == "侨港镇侨港村党支部降级"
    up_ev = ev.model_copy(update={"grade": "advanced"})
    [up] = notifications_for(COUNTY, "OrganizationClassified", up_ev, "e",
                             Facts({("qiaogang-village", 2025): "average"}), RuleSettings())
    assert up.kind == "organization_promoted" and "晋位升级" in up.title


def test_an_enterprise_branch_founding_says_so():
    ev = OrganizationEstablished(organization_id="seafood-branch", name="北海市侨港海产品加工有限公司党支部",
                                 organization_type="branch", host_unit_type="private_enterprise",
                                 township_id="qiaogang", approved_by="中共侨港镇委员会", approved_on=date(2025, 3, 1))
    [n] = notifications_for(COUNTY, "OrganizationEstablished", ev, "e", Facts(), RuleSettings())
    assert n.title == "非公企业新建党组织：北海市侨港海产品加工有限公司党支部" and n.township_id == "qiaogang"


def test_rule_settings_apply_from_their_effective_date():
    settings = RuleSettings([NotificationRulesAdopted(effective_from=date(2026, 7, 1),
                                                      kinds_off=("rectification_accepted",))])
    accepted = BranchRectified(case_id="2026.qiaogang-village", organization_id="qiaogang-village",
                               accepted_on=date(2026, 6, 30), accepted_by="中共银海区委组织部")
    assert len(notifications_for(COUNTY, "BranchRectified", accepted, "e", Facts(), settings)) == 1
    later = accepted.model_copy(update={"accepted_on": date(2026, 7, 1)})
    assert notifications_for(COUNTY, "BranchRectified", later, "e", Facts(), settings) == []
    assert not RuleSettings().enabled("member_star_changed", date(2026, 1, 1))  # opt-in


def test_scope_and_subscription_filters():
    n = {"township_id": "qiaogang", "organization_id": "qiaogang-village", "severity": "critical",
         "kind": "organization_flagged_weak"}
    assert visible_to("county_admin", None, None, "qiaogang", "qiaogang-village")
    assert visible_to("township_operator", "qiaogang", None, "qiaogang", "x")
    assert not visible_to("township_operator", "gaode", None, "qiaogang", "x")
    assert visible_to("branch_secretary", None, "qiaogang-village", "qiaogang", "qiaogang-village")
    assert not visible_to("branch_secretary", None, "other", "qiaogang", "qiaogang-village")
    assert matches({}, None, None, n)
    assert matches({"severities": ["critical"], "kinds": ["organization_flagged_weak"]}, "qiaogang", None, n)
    assert not matches({"severities": ["info"]}, None, None, n)
    assert not matches({}, "gaode", None, n)  # a township operator's subscription stays in their township
