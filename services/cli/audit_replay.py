"""`dangjian audit rating | distribution | scores`: audit replay from the command line, as an auditor (read-only)
— a rating or the star distribution as of a business date as known at a recorded time, with provenance, and
the paged score history (docs/decisions/016-audit-log.md)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import typer
from rich.table import Table

from services.cli.app import err, out
from services.cli.audit import DATA_DIR, audit
from services.cli.common import call, run_or_exit, settings_for
from shared.auth import Actor

AS_OF = typer.Option(None, help="business date YYYY-MM-DD (default: today)")
KNOWN_AT = typer.Option(None, help="recorded time: YYYY-MM-DD (end of that day, China time) or an ISO date-time "
                                   "with offset (default: now)")
JSON = typer.Option(False, "--json", help="the whole answer as JSON")


def _known_at(value: str | None) -> str | None:
    from services.gateway.params import parse_known_at as parse
    if value is None:
        return None
    try:
        return parse(value).isoformat()
    except ValueError as exc:
        err.print(f"[red]--known-at[/]: {exc}")
        raise typer.Exit(2) from None


def _rated(member: str | None, organization: str | None) -> tuple[str, str]:
    if (member is None) == (organization is None):
        err.print("[red]give --member or --organization[/] (one of them)")
        raise typer.Exit(2)
    return ("member", member) if member else ("organization", organization)


def _ask(data_dir: Path | None, county: str, name: str, data: dict[str, Any]) -> dict[str, Any]:
    settings = settings_for(data_dir)
    auditor = Actor(sub="cli-audit", role="auditor", county=county)
    reply = run_or_exit(call(settings, county, "qry", "ratings", name, auditor,
                             {k: v for k, v in data.items() if v is not None}))
    return reply["data"]


def _provenance_table(entries: list[dict[str, Any]]) -> Table:
    table = Table("seq", "score", "category", "points", "occurred", "recorded", "by", "reason", "evidence", "revoked")
    for e in entries:
        rev = e.get("revocation")
        revoked = f"{rev['recorded_by']} {rev['recorded_at']}" + ("" if rev["known_then"] else " (later)") if rev else ""
        table.add_row(str(e["seq"]), e["score_id"], e["category"], str(e["points"]), e["occurred_on"],
                      e["recorded_at"], e["recorded_by"], e["reason"], e.get("evidence_ref") or "", revoked)
    return table


@audit.command("rating")
def rating(county: str = typer.Option(...), member: Optional[str] = typer.Option(None),
           organization: Optional[str] = typer.Option(None), year: Optional[int] = typer.Option(None),
           as_of: Optional[str] = AS_OF, known_at: Optional[str] = KNOWN_AT, as_json: bool = JSON,
           data_dir: Optional[Path] = DATA_DIR) -> None:
    """A member's or organization's stars as of a date, as known at a time, with every score's provenance."""
    kind, rated_id = _rated(member, organization)
    d = _ask(data_dir, county, "rating_as_of", {"rated_kind": kind, "rated_id": rated_id, "year": year,
                                                "as_of": as_of, "known_at": _known_at(known_at)})
    if as_json:
        out.print_json(json.dumps(d, ensure_ascii=False))
        return
    scheme = d["scheme"]
    out.print(f"{kind} {rated_id}, {d['year']}: as of {d['as_of']}, as known at {d['known_at']} — "
              f"{d['total_stars']} stars{' (' + d['star_class'] + ')' if d['star_class'] else ''}, "
              f"{d['total_points']} points; scheme "
              + (f"{scheme['name']} (v{scheme['version']}, seq {scheme['seq']}, by {scheme['recorded_by']})"
                 if scheme else "none"))
    for s in d["stars"]:
        out.print(f"  {s['name']} {s['category']}: {s['points']} points, {s['colour'] or '-'}"
                  f"{', earned' if s['earned'] else ''}")
    out.print(_provenance_table(d["provenance"]))


@audit.command("distribution")
def distribution(county: str = typer.Option(...), year: Optional[int] = typer.Option(None),
                 as_of: Optional[str] = AS_OF, known_at: Optional[str] = KNOWN_AT,
                 township: Optional[str] = typer.Option(None), branch: Optional[str] = typer.Option(None),
                 as_json: bool = JSON, data_dir: Optional[Path] = DATA_DIR) -> None:
    """The star distribution (county, --township or --branch) as of a date, as known at a time."""
    d = _ask(data_dir, county, "star_distribution_as_of", {"year": year, "as_of": as_of, "known_at": _known_at(known_at),
                                                           "township_id": township, "branch_id": branch})
    if as_json:
        out.print_json(json.dumps(d, ensure_ascii=False))
        return
    out.print(f"{d['year']}, as of {d['as_of']}, as known at {d['known_at']} ({d['events']} score events): "
              f"members {d['members']['rated']} rated {d['members']['by_stars']}; organizations "
              f"{d['organizations']['rated']} rated {d['organizations']['by_stars']}, 一类 "
              f"{d['organizations']['class_one']}, 二类 {d['organizations']['class_two']}")
    table = Table("branch", "name", "members rated", "by stars", "own stars", "own class")
    for b in d["branches"]:
        table.add_row(b["branch_id"], b["name"] or "", str(b["members_rated"]), str(b["member_distribution"]),
                      str(b["own_stars"] if b["own_stars"] is not None else ""), b["own_class"] or "")
    out.print(table)


@audit.command("scores")
def scores(county: str = typer.Option(...), year: int = typer.Option(...), member: Optional[str] = typer.Option(None),
           organization: Optional[str] = typer.Option(None), known_at: Optional[str] = KNOWN_AT,
           page: int = typer.Option(1, min=1), page_size: int = typer.Option(100, min=1, max=500),
           as_json: bool = JSON, data_dir: Optional[Path] = DATA_DIR) -> None:
    """积分手册: the score entries of a year in the order recorded, with revocations, paged."""
    kind, rated_id = _rated(member, organization)
    d = _ask(data_dir, county, "score_history", {"rated_kind": kind, "rated_id": rated_id, "year": year,
                                                 "known_at": _known_at(known_at), "page": page, "page_size": page_size})
    if as_json:
        out.print_json(json.dumps(d, ensure_ascii=False))
        return
    out.print(f"{kind} {rated_id}, {year}: {d['total']} entries, page {d['page']} ({d['page_size']} a page)")
    out.print(_provenance_table(d["items"]))
