"""The event log and its read-models: verify the hash chains, rebuild a projection."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from services.cli.app import app, out
from services.cli.common import call, operator, run_or_exit, settings_for


@app.command()
def verify(county: str, data_dir: Optional[Path] = typer.Option(None)) -> None:
    """Verify a county's event log (= dangjian audit verify --county): signatures, chains, sequence; exit 1
    naming every break."""
    from services.cli.audit import _keys, print_report, verify_county_log
    settings = settings_for(data_dir)
    print_report(verify_county_log(settings, county, _keys(settings, None)), False, f"county {county}")


@app.command()
def rebuild(county: str, projection: str = typer.Argument(..., help="e.g. ratings.stars, organizations.registry"),
            data_dir: Optional[Path] = typer.Option(None)) -> None:
    """Rebuild a projection of a county from sequence 1 into fresh tables, then swap it in."""
    settings = settings_for(data_dir)
    service = projection.split(".")[0]
    reply = run_or_exit(call(settings, county, "cmd", service, "rebuild", operator(settings, county),
                       {"projection": projection}))
    d = reply["data"]
    out.print(f"rebuilt {d['projection']} for {county}: {d['events']} events in {d['seconds']} s")
