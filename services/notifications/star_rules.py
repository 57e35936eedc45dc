"""Star and coverage rules (pure): a score changing a star level, a coverage target falling below its goal.

The star arithmetic is the ratings service's own (services/ratings/scheme.py, `StarScheme.rate`), fed
with the points by category before and after a score or a revocation, so a notification says exactly
what the workbench shows:
* organization_star_changed — an organization's earned stars cross a star boundary (up or down);
* organization_left_class_one — it was 一类 (the scheme's `class_one_min_stars`) and no longer is;
* member_star_changed — a member's earned stars change (opt-in per county: it is frequent).
A coverage target (the county rule table's targets, e.g. 4个100%) falling below its rate — it was met
with units to count, now it is not — notifies once per fall (coverage_below_target).
"""
from __future__ import annotations

from datetime import date

from services.notifications.domain import notification_id
from services.notifications.rules import Draft, OrgFacts
from services.ratings.scheme import StarScheme

CLASS_ZH = {"class_one": "一类", "class_two": "二类"}


def star_drafts(county: str, kind: str, rated_id: str, name: str | None, org: OrgFacts, org_id: str | None,
                year: int, scheme: StarScheme, before: dict[str, int], after: dict[str, int], day: date,
                event_id: str) -> list[Draft]:
    was, now = scheme.rate(before), scheme.rate(after)
    out: list[Draft] = []
    link = f"/api/v1/counties/{county}/{kind}s/{rated_id}/rating?year={year}"
    who = name or rated_id
    if now.total_stars != was.total_stars:
        up = now.total_stars > was.total_stars
        verb = "升至" if up else "降至"
        code = "organization_star_changed" if kind == "organization" else "member_star_changed"
        subject = who if kind == "organization" else f"党员{who}（{org.name or org_id or ''}）"
        out.append(Draft(notification_id(county, code, event_id), code, "info" if up else "warning",
                         f"{subject}{year}年度星级{verb}{now.total_stars}星",
                         f"{subject}{year}年度获星由{was.total_stars}星{verb}{now.total_stars}星。", link, day,
                         org_id, org.name, org.township_id, (event_id,)))
    if kind == "organization" and was.star_class == "class_one" and now.star_class != "class_one":
        out.append(Draft(notification_id(county, "organization_left_class_one", event_id), "organization_left_class_one",
                         "warning", f"{who}{year}年度退出一类",
                         f"{who}{year}年度获星{now.total_stars}星，不再达到一类标准（原为一类）。", link, day,
                         org_id, org.name, org.township_id, (event_id,)))
    return out


def coverage_draft(county: str, code: str, name: str, target_rate: float, achieved: float | None, population: int,
                   satisfied: int, day: date, event_id: str) -> Draft:
    shown = f"{achieved:.1%}" if achieved is not None else "—"
    return Draft(notification_id(county, "coverage_below_target", f"{code}:{event_id}"), "coverage_below_target",
                 "warning", f"{name}未达目标（{shown}）",
                 f"目标“{name}”要求 {target_rate:.0%}，现为 {shown}（{satisfied}/{population}），低于目标。",
                 f"/api/v1/counties/{county}/coverage", day, None, None, None, (event_id,),
                 condition=f"coverage_below_target:{code}")
