"""What a township operator's pages show: only their township. The services check every write's scope;
the county-wide reads the pages use (coverage, rectification, elections, stars) are narrowed here to the
operator's township before anything is rendered."""
from __future__ import annotations

from collections import Counter
from typing import Any

from shared.auth import Actor


def narrow(actor: Actor, data: dict[str, Any], branches_in_township: set[str] | None = None) -> dict[str, Any]:
    """The overview's reads with everything outside `actor.township` removed (other roles: unchanged)."""
    if actor.role != "township_operator":
        return data
    town = actor.township
    out = dict(data)
    if "coverage" in data:
        cov = dict(data["coverage"])
        rows = [r for r in cov["rows"] if r["dimension"] == "township" and r["key"] == town]
        cov["rows"] = [{**r, "dimension": "county"} for r in rows] + rows  # their township is their "county"
        cov["targets"] = [{**t, "shortfall": [u for u in t["shortfall"] if u["township_id"] == town]}
                          for t in cov["targets"]]
        for key in ("members_without_organization", "no_organization_no_instructor"):
            cov[key] = [u for u in cov.get(key, []) if u["township_id"] == town]
        out["coverage"] = cov
    if "townships" in data:
        out["townships"] = {"items": [t for t in data["townships"]["items"] if t["township_id"] == town]}
    if "elections" in data:
        out["elections"] = {"items": [i for i in data["elections"]["items"] if i.get("township_id") == town]}
    if "rectification" in data:
        rect = dict(data["rectification"])
        rect["overdue"] = [c for c in rect["overdue"] if c.get("township_id") == town]
        rect["by_campaign"], rect["by_year"] = [], []  # county-wide rates: not shown to a township
        out["rectification"] = rect
    if "stars" in data and branches_in_township is not None:
        stars = dict(data["stars"])
        stars["branches"] = [b for b in stars["branches"] if b["branch_id"] in branches_in_township]
        counts: Counter[str] = Counter()
        for b in stars["branches"]:
            counts.update(b["member_distribution"])
        stars["members"] = {"rated": sum(b["members_rated"] for b in stars["branches"]), "by_stars": dict(counts)}
        out["stars"] = stars
    return out
