"""Time-based rules (pure): 换届 reminders 6 and 3 months before and monthly while overdue, no term
recorded, rectification due and overdue, units still unorganized N days after qualifying — with ids that
repeat within a period (evaluating again issues nothing new) and change with the period."""
from __future__ import annotations

from datetime import date

from shared.catalog.notifications import NotificationRulesAdopted
from services.notifications.conditions import CaseRow, OrgRow, UnitRow, due_conditions
from services.notifications.domain import RuleSettings

COUNTY = "450503"
VILLAGE = OrgRow("qiaogang-village", "侨港镇侨港村党支部", "qiaogang", date(2026, 9, 30), None)


def kinds(today, orgs=(), cases=(), units=(), settings=None):
    drafts = due_conditions(COUNTY, today, {o.organization_id: o for o in orgs}, list(cases), list(units),
                            settings or RuleSettings())
    return [(d.kind, d.period, d.title) for d in drafts], drafts


def test_term_reminders_six_and_three_months_before_then_monthly_while_overdue():
    assert kinds(date(2026, 3, 29), [VILLAGE])[0] == []
    [(kind, period, title)], first = kinds(date(2026, 3, 30), [VILLAGE])
    assert (kind, period, title) == ("term_expiring", "2026-09-30-6m", "侨港镇侨港村党支部将于6个月内换届")
    assert kinds(date(2026, 5, 1), [VILLAGE])[1][0].notification_id == first[0].notification_id  # same period
    assert kinds(date(2026, 6, 30), [VILLAGE])[0][0][1] == "2026-09-30-3m"
    assert kinds(date(2026, 10, 1), [VILLAGE])[0][0][1:] == ("2026-09-30+0m", "侨港镇侨港村党支部换届已逾期")
    assert kinds(date(2026, 10, 31), [VILLAGE])[0][0][1] == "2026-09-30+0m"
    assert kinds(date(2026, 11, 1), [VILLAGE])[0][0][1] == "2026-09-30+1m"
    postponed = OrgRow(**{**VILLAGE.__dict__, "election_due_on": date(2027, 3, 31)})
    assert kinds(date(2026, 11, 1), [postponed])[0][0][1] == "2027-03-31-6m"  # approved postponement counts


def test_no_term_recorded_once_a_year():
    unknown = OrgRow("gaode-community", "高德社区党支部", "gaode", None, None)
    [(kind, period, _)], _ = kinds(date(2026, 12, 1), [unknown])
    assert (kind, period) == ("term_missing", "2026")


def test_rectification_due_and_overdue():
    case = CaseRow("2026.qiaogang-village", "qiaogang-village", date(2026, 6, 30))
    assert kinds(date(2026, 6, 15), [], [case])[0] == []
    assert kinds(date(2026, 6, 16), [], [case])[0][0][0] == "rectification_due"
    overdue = [k for k in kinds(date(2026, 7, 1), [VILLAGE], [case])[0] if k[0] == "rectification_overdue"]
    assert overdue == [("rectification_overdue", "2026-06-30+0m", "侨港镇侨港村党支部整顿已逾期")]
    short = RuleSettings([NotificationRulesAdopted(effective_from=date(2026, 1, 1), rectification_due_days=3)])
    assert kinds(date(2026, 6, 16), [], [case], settings=short)[0] == []


def test_a_unit_still_unorganized_n_days_after_qualifying():
    unit = UnitRow("seafood", "北海市侨港海产品加工有限公司", "qiaogang", date(2026, 1, 1))
    assert kinds(date(2026, 3, 31), units=[unit])[0] == []  # 90 days by default
    [(kind, period, title)], drafts = kinds(date(2026, 4, 1), units=[unit])
    assert kind == "enterprise_unorganized" and drafts[0].township_id == "qiaogang"
    off = RuleSettings([NotificationRulesAdopted(effective_from=date(2026, 1, 1), kinds_off=("enterprise_unorganized",))])
    assert kinds(date(2026, 4, 1), units=[unit], settings=off)[0] == []
