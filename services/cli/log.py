"""The event log and its read-models: verify the hash chains, rebuild a projection."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from services.cli.app import app, err, out
from services.cli.common import call, connect, operator, run_or_exit, settings_for


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
    reply = run_or_exit(rebuild_following(settings, county, service, projection))
    d = reply["data"]
    rate = f", {d['events'] / d['seconds']:,.0f} events/s" if d["seconds"] else ""
    out.print(f"rebuilt {d['projection']} for {county}: {d['events']} events in {d['seconds']} s{rate}")


REBUILD_TIMEOUT_S = 6 * 3600  # a rebuild is long work: the answer comes when it is done, however long


async def rebuild_following(settings, county: str, service: str, projection: str) -> dict:
    """Asks for the rebuild and, while it runs, draws its progress (events done, rate, time left) from
    the owner's health, where the rebuild reports it."""
    import asyncio

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from shared.messaging import health_of_every_instance

    nc = await connect(settings)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[rate]}"),
               TimeRemainingColumn())
    try:
        with Progress(*columns, console=err, transient=True) as bar:
            task = bar.add_task(f"rebuild {projection} {county}", total=None, rate="")

            async def follow() -> None:
                while True:
                    try:
                        answers = await health_of_every_instance(nc, service, wait_s=0.5)
                    except Exception:  # the bar is a courtesy: the rebuild's answer is what counts
                        answers = []
                    for health in answers:
                        for p in health["projections"]:
                            if p["county"] == county and p["projection"].startswith(projection) and "rebuild" in p:
                                r = p["rebuild"]
                                bar.update(task, completed=r["events_done"], total=r["events_total"] or None,
                                           rate=f"{r['rate_per_s']:,.0f} events/s",
                                           description=f"rebuild {projection} {county} ({r['phase']})")
                    await asyncio.sleep(0.5)

            follower = asyncio.create_task(follow())
            try:
                return await call(settings, county, "cmd", service, "rebuild", operator(settings, county),
                                  {"projection": projection}, timeout=REBUILD_TIMEOUT_S)
            finally:
                follower.cancel()
    finally:
        await nc.close()
