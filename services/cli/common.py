"""What the commands share: settings, the running system's NATS address, and calling a service the way the
gateway does (request/reply), with refusals printed as `<status> <code>: <detail>` and exit code 1."""
from __future__ import annotations

import asyncio
import json
import time
from datetime import timedelta
from pathlib import Path
from typing import Optional

import nats
import orjson
import typer

from services.cli.app import err
from shared import bus
from shared.auth import Actor, issue_token
from shared.credentials import MissingCredential
from shared.errors import DomainError
from shared.ids import new_id
from shared.settings import Settings


def settings_for(data_dir: Optional[Path]) -> Settings:
    return Settings(data_dir=data_dir) if data_dir else Settings()


def nats_url(settings: Settings) -> str:
    if settings.nats_url:
        return settings.nats_address
    runtime = settings.data_dir / "runtime.json"
    if not runtime.exists():
        err.print(f"[red]没有运行中的系统 / no running system found[/] (looked for {runtime}); "
                  "start it with `dangjian start` or set DANGJIAN_NATS_URL")
        raise typer.Exit(2)
    return json.loads(runtime.read_text())["nats_url"]


async def call(settings: Settings, county: str, kind: str, service: str, name: str, actor: Actor,
                data: dict, timeout: float | None = None, as_job: bool = False) -> dict:
    """`as_job`: long work answers at once with a job id (services/cli/jobs.py follows it)."""
    nc = await connect(settings)
    try:
        timeout = timeout or settings.request_timeout_s
        body = {"token": cli_token(settings, actor), "data": data, "correlation_id": new_id(),
                "deadline": time.time() + timeout, **({"as_job": True} if as_job else {})}
        msg = await nc.request(f"pb.{county}.{kind}.{service}.{name}", orjson.dumps(body, default=str),
                               timeout=timeout)
    except nats.errors.NoRespondersError:
        err.print(f"[red]服务 {service} 未运行 / service {service} is not running[/]")
        raise typer.Exit(2) from None
    finally:
        await nc.close()
    reply = orjson.loads(msg.data)
    if not reply["ok"]:
        raise DomainError.from_dict(reply["error"])
    return reply


CLI_TOKEN_TTL = timedelta(minutes=5)


def cli_token(settings: Settings, actor: Actor) -> str:
    """The CLI acts with a token of its own, minted per call with the signing key and short-lived."""
    return issue_token(settings.secret(), actor, CLI_TOKEN_TTL)


async def connect(settings: Settings):
    """The CLI's own NATS identity (credentials/cli.nk), no reconnects: a command either reaches it or says so."""
    return await bus.connect(settings, "cli", nats_url(settings), reconnect=False, connect_timeout=3)


def run_or_exit(coro) -> dict:
    try:
        return asyncio.run(coro)
    except DomainError as exc:
        err.print(f"[red]{exc.status} {exc.code}[/]: {exc.detail}")
        for fe in exc.errors:
            err.print(f"  - {fe.field}: {fe.message}")
        raise typer.Exit(1) from None
    except nats.errors.TimeoutError:  # reached, but no answer yet: long work may still be going on
        err.print("[red]没有按时答复 / no answer in time[/]: the operation may still be running; "
                  "`dangjian jobs <county>` shows long work and its progress")
        raise typer.Exit(2) from None
    except (OSError, nats.errors.Error, MissingCredential) as exc:
        err.print(f"[red]无法连接 NATS / cannot reach NATS[/]: {exc}")
        raise typer.Exit(2) from None


def operator(settings: Settings, county: str | None) -> Actor:
    """The CLI acts as the local operator: platform admin for counties, county admin otherwise."""
    if county is None:
        return Actor(sub="cli", role="platform_admin")
    return Actor(sub="cli", role="county_admin", county=county)
