"""The event log and its read-models: verify the hash chains, rebuild a projection."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from services.cli.app import app, out
from services.cli.common import run_or_exit, settings_for
from services.cli.jobs import run_job


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
    # a job: the request is answered at once, the CLI follows the progress (the owner's replay, then the swap)
    reply = run_or_exit(run_job(settings, county, service, "rebuild", {"projection": projection},
                                f"rebuild {projection} {county}"))
    d = reply["data"]
    rate = f", {d['events'] / d['seconds']:,.0f} events/s" if d["seconds"] else ""
    out.print(f"rebuilt {d['projection']} for {county}: {d['events']} events in {d['seconds']} s{rate}")
