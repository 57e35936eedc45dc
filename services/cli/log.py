"""The event log and its read-models: verify the hash chains, rebuild a projection."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from services.cli.app import app, err, out
from services.cli.common import call, connect, operator, run_or_exit, settings_for


@app.command()
def verify(county: str, data_dir: Optional[Path] = typer.Option(None)) -> None:
    """Verify the hash chains of a county's event log; exit 1 at the first broken link."""
    from shared.eventstore import EventStore
    from shared.verify import verify_county

    settings = settings_for(data_dir)

    async def ask():
        nc = await connect(settings)
        try:
            return await verify_county(EventStore(nc), county)
        finally:
            await nc.close()

    report = run_or_exit(ask())
    if report.ok:
        out.print(f"[green]OK[/] county {county}: {report.checked} events, every hash chain intact")
        return
    b = report.first_broken
    err.print(f"[red]BROKEN[/] county {county}: first broken link at seq {b.seq} ({b.subject}): {b.reason}")
    raise typer.Exit(1)


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
