"""Running the system and administering it: start, token, add-county, health."""
from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Optional

import nats
import orjson
import typer
from rich.table import Table

from services.cli.app import app, err, out
from services.cli.common import call, connect, run_or_exit, settings_for
from services.cli.security import announce_admin_token
from shared.auth import Actor, issue_token


@app.command()
def start(data_dir: Optional[Path] = typer.Option(None, help="data directory (default DANGJIAN_DATA_DIR or ./var)"),
          port: Optional[int] = typer.Option(None, help="HTTP port (default DANGJIAN_HTTP_PORT or 8000)"),
          only: Optional[str] = typer.Option(None, help="run only these services, comma-separated "
                                             "(organizations,ratings,notifications,gateway,provisioner)")) -> None:
    """Start the whole system (embedded nats-server unless DANGJIAN_NATS_URL is set)."""
    from services.launcher import SERVICE_NAMES, run_all, run_on_loop

    settings = settings_for(data_dir)
    if port:
        settings = settings.model_copy(update={"http_port": port})
    chosen = tuple((only or ",".join((*SERVICE_NAMES, "gateway", "provisioner"))).split(","))
    unknown = set(chosen) - {*SERVICE_NAMES, "gateway", "provisioner"}
    if unknown:
        err.print(f"[red]unknown service(s): {', '.join(sorted(unknown))}[/]")
        raise typer.Exit(2)

    def ready(system, url: str) -> None:
        out.print(f"[bold green]dangjian 党建 is running[/]  NATS {system.nats_url}  data {settings.data_dir.resolve()}")
        if url:
            out.print(f"Dashboard: {url}/    API docs: {url}/docs    Health: {url}/healthz")
        if not only:  # the whole system on one machine: hand out a short-lived admin token
            announce_admin_token(settings)
        out.print("Press Ctrl+C to stop.")

    try:
        run_on_loop(settings, run_all(settings, ready, services=tuple(s for s in chosen if s in SERVICE_NAMES),
                                      gateway="gateway" in chosen, provision="provisioner" in chosen))
    except KeyboardInterrupt:
        out.print("stopped")


@app.command()
def token(role: str = typer.Option(..., help="platform_admin, province_admin, county_admin, township_operator, "
                                             "branch_secretary, auditor"),
          sub: str = typer.Option(..., help="user id / login"),
          county: Optional[str] = typer.Option(None), township: Optional[str] = typer.Option(None),
          branch: Optional[str] = typer.Option(None),
          scope_prefix: Optional[str] = typer.Option(None, help="province_admin: division-code prefix, e.g. 45 or 4505"),
          hours: Optional[int] = typer.Option(None, min=1, help="lifetime (default DANGJIAN_JWT_TTL_HOURS; at most "
                                              "DANGJIAN_JWT_MAX_TTL_HOURS, longer tokens are refused)"),
          data_dir: Optional[Path] = typer.Option(None)) -> None:
    """Issue a bearer token (JWT) for a role and scope."""
    from pydantic import ValidationError

    from shared.auth import InvalidToken, check_scope

    settings = settings_for(data_dir)
    hours = hours or settings.jwt_ttl_hours
    if hours > settings.jwt_max_ttl_hours:
        err.print(f"[red]--hours: at most {settings.jwt_max_ttl_hours} (DANGJIAN_JWT_MAX_TTL_HOURS)[/]")
        raise typer.Exit(1)
    try:
        actor = Actor(sub=sub, role=role, county=county, township=township, branch=branch, scope_prefix=scope_prefix)
        check_scope(actor)
    except ValidationError as exc:
        for e in exc.errors():
            err.print(f"[red]{'.'.join(map(str, e['loc']))}[/]: {e['msg']}")
        raise typer.Exit(1) from None
    except InvalidToken as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None
    out.print(issue_token(settings.secret(), actor, timedelta(hours=hours)), soft_wrap=True)


@app.command("add-county")
def add_county(code: str = typer.Argument(..., help="6-digit 行政区划代码, e.g. 450503"),
               name: str = typer.Argument(..., help="e.g. 银海区"), data_dir: Optional[Path] = typer.Option(None)) -> None:
    """Add a county (creates its event stream)."""
    settings = settings_for(data_dir)
    if not (len(code) == 6 and code.isdigit() and code[0] != "0"):
        err.print("[red]county code must be 6 digits (行政区划代码)[/]")
        raise typer.Exit(1)
    reply = run_or_exit(call(settings, code, "cmd", "organizations", "add_county",
                             Actor(sub="cli", role="platform_admin"), {"county_code": code, "name": name}))
    out.print(f"added county {code} {name} (seq {reply['seq']})")


@app.command()
def health(data_dir: Optional[Path] = typer.Option(None)) -> None:
    """Each service's status and each projection's checkpoint and lag."""
    from shared.messaging import health_subject
    from services.launcher import SERVICE_NAMES

    settings = settings_for(data_dir)

    async def ask():
        nc = await connect(settings)
        try:
            res = {}
            for name in SERVICE_NAMES:
                try:
                    res[name] = orjson.loads((await nc.request(health_subject(name), b"", timeout=2)).data)
                except (nats.errors.NoRespondersError, nats.errors.TimeoutError):
                    res[name] = {"status": "unreachable", "projections": []}
            return res
        finally:
            await nc.close()

    table = Table("service", "status", "projection", "county", "checkpoint", "lag", "error")
    answers = run_or_exit(ask())
    for name, h in answers.items():
        for p in h.get("projections") or [{}]:
            table.add_row(name, h["status"], p.get("projection", ""), p.get("county", ""),
                          str(p.get("checkpoint", "")), str(p.get("lag", "")), str(p.get("error", "") or ""))
    out.print(table)
    if any(h.get("status") != "ok" for h in answers.values()):  # degraded or unreachable: scripts see it
        raise typer.Exit(1)
