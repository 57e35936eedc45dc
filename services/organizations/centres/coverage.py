"""Coverage of 党群服务中心, pure: per level, how many centres are to standard (达标) and the share of
the places of that level — the county, its townships, villages and communities — served by a centre
to standard, as of a date. The caller folds the centres and the places from the log up to that date.

A village (community) is the Party organization hosted there that heads it: not a party group, and
not under another organization of the same village (a village committee's branches are one village).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from shared.catalog.base import DomainEvent
from shared.catalog.centres import LEVELS, CentreStandards
from services.organizations.centres.commands import LEVEL_NAMES
from services.organizations.centres.domain import Centre
from services.organizations.registry.domain import Organization

PLACE_HOSTS = ("village", "community")


@dataclass(frozen=True)
class Place:
    level: str  # county / township / village / community
    place_id: str
    name: str
    township_id: str | None


def places_as_of(county: str, county_name: str, townships: Mapping[str, str], organization_events: Iterable[DomainEvent],
                 on: date) -> list[Place]:
    """The county, every township (`townships`: id → name) and the villages and communities whose
    organization was active on `on` (organization events dated by approval after `on` left out)."""
    organizations: dict[str, Organization] = {}
    for event in organization_events:
        day = getattr(event, "approved_on", None) or getattr(event, "elected_on", None)
        if day is not None and day > on:
            continue
        org = organizations.setdefault(event.organization_id, Organization(event.organization_id))
        org.apply(event)
    out = [Place("county", county, county_name, None)]
    out += [Place("township", tid, name, tid) for tid, name in sorted(townships.items())]
    for org in organizations.values():
        parent = organizations.get(org.parent_id) if org.parent_id else None
        if (org.exists and org.status == "active" and org.host_unit_type in PLACE_HOSTS
                and org.organization_type != "party_group" and org.name is not None
                and (parent is None or parent.host_unit_type != org.host_unit_type)):
            out.append(Place(org.host_unit_type, org.id, org.name, org.township_id))
    return out


def _place_key(centre: Centre) -> tuple[str, str] | None:
    """The place a centre serves: the county, its township, or its village/community organization."""
    if centre.level == "county":
        return ("county", "")
    if centre.level == "township":
        return ("township", centre.township_id or "")
    if centre.level in PLACE_HOSTS:
        return (centre.level, centre.organization_id or "")
    return None


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def coverage(centres: Iterable[Centre], places: list[Place], standards: CentreStandards, on: date) -> dict[str, Any]:
    """The figures the API answers (queries.CentreCoverage)."""
    centres = list(centres)
    served: dict[tuple[str, str], list[Centre]] = {}
    for c in centres:
        key = _place_key(c)
        if key is not None:
            served.setdefault(key, []).append(c)
    rows, shortfall = [], []
    for level in LEVELS:
        of_level = [c for c in centres if c.level == level]
        row = {"level": level, "name": LEVEL_NAMES[level], "centres": sum(c.kind == "centre" for c in of_level),
               "stations": sum(c.kind == "station" for c in of_level),
               "to_standard": sum(c.to_standard for c in of_level), "plaqued": sum(c.plaqued_on is not None
                                                                                    for c in of_level),
               "places": None, "covered": None}
        row["standard_rate"] = _rate(row["to_standard"], len(of_level))
        level_places = [p for p in places if p.level == level]
        if level_places:
            covered = 0
            for p in level_places:
                there = served.get((level, "" if level == "county" else p.place_id), [])
                if any(c.to_standard for c in there):
                    covered += 1
                    continue
                shortfall.append({"level": level, "place_id": p.place_id, "name": p.name, "township_id": p.township_id,
                                  "reason": _gap(there)})
            row["places"], row["covered"] = len(level_places), covered
        row["coverage_rate"] = _rate(row["covered"] or 0, row["places"] or 0)
        rows.append(row)
    total_places = sum(r["places"] or 0 for r in rows)
    total = {"level": "all", "name": "合计", "centres": sum(r["centres"] for r in rows),
             "stations": sum(r["stations"] for r in rows), "to_standard": sum(r["to_standard"] for r in rows),
             "plaqued": sum(r["plaqued"] for r in rows), "places": total_places,
             "covered": sum(r["covered"] or 0 for r in rows)}
    total["standard_rate"] = _rate(total["to_standard"], len(centres))
    total["coverage_rate"] = _rate(total["covered"], total_places)
    met = total["coverage_rate"] is not None and total["coverage_rate"] >= standards.coverage_target
    return {"as_of": on, "standards_from": standards.effective_from, "coverage_target": standards.coverage_target,
            "target_met": met, "rows": rows, "total": total, "shortfall": shortfall}


def _gap(there: list[Centre]) -> str:
    if not there:
        return "无党群服务中心 / no centre"
    inspected = [c for c in there if c.inspection is not None]
    if not inspected:
        return "未核查 / not inspected yet"
    missing = sorted({m for c in inspected for m in c.inspection.missing})
    return "未达标：" + "、".join(missing) + " / not to standard"
