"""Star ratings from the command line: record a score."""
from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Optional

import typer

from services.cli.app import app, out
from services.cli.common import call, operator, run_or_exit, settings_for
from shared.ids import new_id


@app.command()
def score(county: str, member_id: str, category: str = typer.Option(...), points: int = typer.Option(...),
          reason: str = typer.Option(...), occurred_on: str = typer.Option(date.today().isoformat()),
          year: Optional[int] = typer.Option(None), evidence: Optional[str] = typer.Option(None),
          key: Optional[str] = typer.Option(None, help="idempotency key (default: a new one)"),
          data_dir: Optional[Path] = typer.Option(None)) -> None:
    """Record a score (加分/扣分) for a member."""
    settings = settings_for(data_dir)
    data = {"rated_kind": "member", "rated_id": member_id, "year": year or int(occurred_on[:4]),
            "category": category, "points": points, "reason": reason, "evidence_ref": evidence,
            "occurred_on": occurred_on, "idempotency_key": key or new_id()}
    reply = run_or_exit(call(settings, county, "cmd", "ratings", "record_score", operator(settings, county), data))
    out.print(f"score {reply['data']['score_id']} recorded (seq {reply['seq']})")
