"""Long work (rebuilds, imports) as jobs: started with `as_job`, followed with a progress bar until it ends,
and `dangjian jobs` to list or show them (shared/jobs.py). A job goes on when the CLI stops following it."""
from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Optional

import typer

from services.cli.app import app, err, out
from services.cli.common import call, connect, operator, run_or_exit, settings_for
from shared import jobs
from shared.errors import DomainError

POLL_S = 0.5


async def run_job(settings, county: str, service: str, name: str, data: dict, label: str) -> dict:
    """Starts `name` as a job and follows it to its end: the service's reply ({ok, data, seq}), or its
    refusal raised as a DomainError. No request waits for the work itself, so nothing times out."""
    started = (await call(settings, county, "cmd", service, name, operator(settings, county), data,
                          as_job=True))["data"]
    record = await follow(settings, county, started["job_id"], label)
    if record["state"] == "succeeded":
        return {"ok": True, "data": record["result"], "seq": record.get("seq") or 0}
    raise DomainError.from_dict(record["error"])


async def follow(settings, county: str, job_id: str, label: str) -> dict:
    """Polls the job's record, drawing done/total, rate and time left, until it is no longer running."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    nc = await connect(settings)
    registry = jobs.JobRegistry(nc.jetstream())
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[rate]}"),
               TextColumn("{task.fields[eta]}"), TimeRemainingColumn())
    try:
        with Progress(*columns, console=err, transient=True) as bar:
            task = bar.add_task(f"{label} (job {job_id})", total=None, rate="", eta="")
            while True:
                record = await registry.get(county, job_id)
                if record is None:
                    raise DomainError("job_not_found", f"任务 {job_id} 不存在 / job {job_id} not found", 404)
                view = jobs.presented(record)
                if view["state"] != "running":
                    return view
                bar.update(task, completed=view["done"], total=view["total"],
                           rate=f"{view['rate_per_s']:,.0f}/s" if view["rate_per_s"] else "",
                           eta=f"ETA {view['eta_s']:,.0f} s" if view["eta_s"] is not None else "")
                await asyncio.sleep(POLL_S)
    finally:
        await nc.close()


@app.command("jobs")
def jobs_command(county: str, job_id: Optional[str] = typer.Argument(None, help="show this one (and follow it "
                                                                                "while it runs)"),
                 data_dir: Optional[Path] = typer.Option(None)) -> None:
    """List a county's jobs (rebuilds, imports), newest first; or show one, following it while it runs."""
    settings = settings_for(data_dir)
    if job_id:
        view = run_or_exit(follow(settings, county, job_id, "job"))
        out.print_json(data=view)
        raise typer.Exit(0 if view["state"] == "succeeded" else 1)
    records = run_or_exit(_list(settings, county))
    if not records:
        out.print(f"no jobs for {county} (records are kept for a week)")
    for r in records:
        v = jobs.presented(r)
        total = f"/{v['total']}" if v["total"] else ""
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(v["created_at"]))
        out.print(f"{v['job_id']}  {when}  {v['kind']:<32} {v['state']:<9} {v['done']}{total}  {v['requested_by']}")


async def _list(settings, county: str) -> list[dict]:
    nc = await connect(settings)
    try:
        return await jobs.JobRegistry(nc.jetstream()).list(county)
    finally:
        await nc.close()
