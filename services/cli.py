"""The `dangjian` command line: start the system, add counties, issue tokens, import, score, verify."""
from __future__ import annotations

import asyncio
import base64
import json
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Optional

import nats
import orjson
import typer
from rich.console import Console
from rich.table import Table

from shared import bus
from shared.auth import Actor, issue_token
from shared.credentials import MissingCredential
from shared.errors import DomainError
from shared.ids import new_id
from shared.settings import Settings
from services import security_cli

app = typer.Typer(help="dangjian 党建 — grassroots Party-building management", no_args_is_help=True,
                  pretty_exceptions_enable=False)
out = Console(soft_wrap=True)  # tokens and URLs must stay copyable: never wrapped
err = Console(stderr=True)


def _settings(data_dir: Optional[Path]) -> Settings:
    return Settings(data_dir=data_dir) if data_dir else Settings()


def _nats_url(settings: Settings) -> str:
    if settings.nats_url:
        return settings.nats_url
    runtime = settings.data_dir / "runtime.json"
    if not runtime.exists():
        err.print(f"[red]没有运行中的系统 / no running system found[/] (looked for {runtime}); "
                  "start it with `dangjian start` or set DANGJIAN_NATS_URL")
        raise typer.Exit(2)
    return json.loads(runtime.read_text())["nats_url"]


async def _call(settings: Settings, county: str, kind: str, service: str, name: str, actor: Actor,
                data: dict) -> dict:
    nc = await bus.connect(settings, "cli", _nats_url(settings), reconnect=False, connect_timeout=3)
    try:
        body = {"token": security_cli.cli_token(settings, actor), "data": data, "correlation_id": new_id()}
        msg = await nc.request(f"pb.{county}.{kind}.{service}.{name}", orjson.dumps(body, default=str),
                               timeout=settings.request_timeout_s)
    except nats.errors.NoRespondersError:
        err.print(f"[red]服务 {service} 未运行 / service {service} is not running[/]")
        raise typer.Exit(2) from None
    finally:
        await nc.close()
    reply = orjson.loads(msg.data)
    if not reply["ok"]:
        raise DomainError.from_dict(reply["error"])
    return reply


def _run(coro) -> dict:
    try:
        return asyncio.run(coro)
    except DomainError as exc:
        err.print(f"[red]{exc.status} {exc.code}[/]: {exc.detail}")
        for fe in exc.errors:
            err.print(f"  - {fe.field}: {fe.message}")
        raise typer.Exit(1) from None
    except (OSError, nats.errors.Error, MissingCredential) as exc:
        err.print(f"[red]无法连接 NATS / cannot reach NATS[/]: {exc}")
        raise typer.Exit(2) from None


def _operator(settings: Settings, county: str | None) -> Actor:
    """The CLI acts as the local operator: platform admin for counties, county admin otherwise."""
    if county is None:
        return Actor(sub="cli", role="platform_admin")
    return Actor(sub="cli", role="county_admin", county=county)


@app.command()
def start(data_dir: Optional[Path] = typer.Option(None, help="data directory (default DANGJIAN_DATA_DIR or ./var)"),
          port: Optional[int] = typer.Option(None, help="HTTP port (default DANGJIAN_HTTP_PORT or 8000)"),
          only: Optional[str] = typer.Option(None, help="run only these services, comma-separated "
                                             "(organizations,ratings,notifications,gateway,provisioner)")) -> None:
    """Start the whole system (embedded nats-server unless DANGJIAN_NATS_URL is set)."""
    from services.launcher import SERVICE_NAMES, run_all

    settings = _settings(data_dir)
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
            security_cli.announce_admin_token(settings)
        out.print("Press Ctrl+C to stop.")

    try:
        asyncio.run(run_all(settings, ready, services=tuple(s for s in chosen if s in SERVICE_NAMES),
                            gateway="gateway" in chosen, provision="provisioner" in chosen))
    except KeyboardInterrupt:
        out.print("stopped")


@app.command()
def token(role: str = typer.Option(..., help="platform_admin, county_admin, township_operator, branch_secretary, auditor"),
          sub: str = typer.Option(..., help="user id / login"),
          county: Optional[str] = typer.Option(None), township: Optional[str] = typer.Option(None),
          branch: Optional[str] = typer.Option(None),
          hours: Optional[int] = typer.Option(None, min=1, help="lifetime (default DANGJIAN_JWT_TTL_HOURS; at most "
                                              "DANGJIAN_JWT_MAX_TTL_HOURS, longer tokens are refused)"),
          data_dir: Optional[Path] = typer.Option(None)) -> None:
    """Issue a bearer token (JWT) for a role and scope."""
    from pydantic import ValidationError

    from shared.auth import InvalidToken, check_scope

    settings = _settings(data_dir)
    hours = hours or settings.jwt_ttl_hours
    if hours > settings.jwt_max_ttl_hours:
        err.print(f"[red]--hours: at most {settings.jwt_max_ttl_hours} (DANGJIAN_JWT_MAX_TTL_HOURS)[/]")
        raise typer.Exit(1)
    try:
        actor = Actor(sub=sub, role=role, county=county, township=township, branch=branch)
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
    settings = _settings(data_dir)
    if not (len(code) == 6 and code.isdigit() and code[0] != "0"):
        err.print("[red]county code must be 6 digits (行政区划代码)[/]")
        raise typer.Exit(1)
    reply = _run(_call(settings, code, "cmd", "organizations", "add_county", Actor(sub="cli", role="platform_admin"),
                       {"county_code": code, "name": name}))
    out.print(f"added county {code} {name} (seq {reply['seq']})")


@app.command("import-members")
def import_members(county: str, file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True),
                   data_dir: Optional[Path] = typer.Option(None)) -> None:
    """Import members from CSV or .xlsx; nothing is imported when any row is wrong."""
    settings = _settings(data_dir)
    data = {"filename": file.name, "content_b64": base64.b64encode(file.read_bytes()).decode()}
    reply = _run(_call(settings, county, "cmd", "organizations", "import_members", _operator(settings, county), data))
    d = reply["data"]
    out.print(f"imported {d['imported']} member(s), {d['already_imported']} already imported (seq {reply['seq']})")


@app.command("import-enterprises")
def import_enterprises(county: str, file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True),
                       data_dir: Optional[Path] = typer.Option(None)) -> None:
    """Import 两新组织 (enterprises, social organizations) from CSV or .xlsx; nothing is imported when any row is wrong."""
    settings = _settings(data_dir)
    data = {"filename": file.name, "content_b64": base64.b64encode(file.read_bytes()).decode()}
    reply = _run(_call(settings, county, "cmd", "organizations", "import_enterprises", _operator(settings, county),
                       data))
    d = reply["data"]
    out.print(f"imported {d['imported']} unit(s), {d['already_imported']} already imported (seq {reply['seq']})")


def _as_of(value: Optional[str]) -> Optional[str]:
    if value is None:
        return None
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        err.print(f"[red]--as-of 须为日期 YYYY-MM-DD / --as-of must be a date YYYY-MM-DD[/], got {value!r}")
        raise typer.Exit(1) from None


def _percent(rate: Optional[float]) -> str:
    return "—" if rate is None else f"{rate:.1%}"


DIMENSION_ZH = {"county": "全县", "township": "乡镇"}


@app.command()
def coverage(county: str, as_of: Optional[str] = typer.Option(None, help="business date YYYY-MM-DD (default: live)"),
             data_dir: Optional[Path] = typer.Option(None)) -> None:
    """两新组织党组织覆盖情况: the county and township rows, and the targets with their shortfalls."""
    settings = _settings(data_dir)
    data = {"as_of": _as_of(as_of)} if as_of else {}
    report = _run(_call(settings, county, "qry", "organizations", "coverage", _operator(settings, county),
                        data))["data"]
    rows = Table("维度", "名称", "应建单位", "单独组建", "联合组建", "已建", "组织覆盖率", "未建", "工作覆盖",
                 "工作覆盖率", "工青妇健全率", title=f"覆盖情况 / coverage of {county} as of {report['as_of']}")
    for r in report["rows"]:
        if r["dimension"] not in DIMENSION_ZH:
            continue
        rows.add_row(DIMENSION_ZH[r["dimension"]], r["key"], str(r["in_scope"]), str(r["standalone"]),
                     str(r["joint"]), str(r["organized"]), _percent(r["organization_coverage_rate"]),
                     str(r["unorganized"]), str(r["work_covered"]), _percent(r["work_coverage_rate"]),
                     _percent(r["mass_org_rate"]))
    out.print(rows)
    targets = Table("目标 / target", "要求", "涉及单位", "达标单位", "完成率", "是否完成", "差距单位", title="目标任务 / targets")
    for t in report["targets"]:
        targets.add_row(t["name"], _percent(t["rate"]), str(t["population"]), str(t["satisfied"]),
                        _percent(t["achieved"]), "[green]是[/]" if t["met"] else "[red]否[/]", str(len(t["shortfall"])))
    out.print(targets)


def _save_export(settings: Settings, county: str, name: str, data: dict, target: Path) -> None:
    if target.is_dir() or not target.parent.is_dir():
        err.print(f"[red]无法写入 / cannot write[/] {target}: give a file path in an existing directory")
        raise typer.Exit(1)
    reply = _run(_call(settings, county, "qry", "organizations", name, _operator(settings, county), data))["data"]
    content = base64.b64decode(reply["content_b64"])
    try:
        target.write_bytes(content)
    except OSError as exc:
        err.print(f"[red]无法写入 / cannot write[/] {target}: {exc.strerror or exc}")
        raise typer.Exit(1) from None
    out.print(f"wrote {target} ({len(content):,} bytes; {reply['filename']})")


@app.command("export-coverage")
def export_coverage(county: str, out_file: Path = typer.Argument(..., metavar="OUT.xlsx", help="file to write"),
                    as_of: Optional[str] = typer.Option(None, help="business date YYYY-MM-DD (default: live)"),
                    data_dir: Optional[Path] = typer.Option(None)) -> None:
    """Write the coverage table (覆盖情况统计表, targets, gap list) as an Excel workbook."""
    data = {"as_of": _as_of(as_of)} if as_of else {}
    _save_export(_settings(data_dir), county, "coverage_export", data, out_file)


@app.command("export-ledger")
def export_ledger(county: str, out_file: Path = typer.Argument(..., metavar="OUT.xlsx", help="file to write"),
                  campaign: Optional[str] = typer.Option(None, help="only this campaign (整顿批次), e.g. 2026"),
                  data_dir: Optional[Path] = typer.Option(None)) -> None:
    """Write the rectification ledger (软弱涣散党组织整顿台账) as an Excel workbook."""
    data = {"campaign": campaign} if campaign else {}
    _save_export(_settings(data_dir), county, "rectification_ledger_export", data, out_file)


@app.command()
def score(county: str, member_id: str, category: str = typer.Option(...), points: int = typer.Option(...),
          reason: str = typer.Option(...), occurred_on: str = typer.Option(date.today().isoformat()),
          year: Optional[int] = typer.Option(None), evidence: Optional[str] = typer.Option(None),
          key: Optional[str] = typer.Option(None, help="idempotency key (default: a new one)"),
          data_dir: Optional[Path] = typer.Option(None)) -> None:
    """Record a score (加分/扣分) for a member."""
    settings = _settings(data_dir)
    data = {"rated_kind": "member", "rated_id": member_id, "year": year or int(occurred_on[:4]),
            "category": category, "points": points, "reason": reason, "evidence_ref": evidence,
            "occurred_on": occurred_on, "idempotency_key": key or new_id()}
    reply = _run(_call(settings, county, "cmd", "ratings", "record_score", _operator(settings, county), data))
    out.print(f"score {reply['data']['score_id']} recorded (seq {reply['seq']})")


@app.command()
def verify(county: str, data_dir: Optional[Path] = typer.Option(None)) -> None:
    """Verify the hash chains of a county's event log; exit 1 at the first broken link."""
    from shared.eventstore import EventStore
    from shared.verify import verify_county

    settings = _settings(data_dir)

    async def run():
        nc = await bus.connect(settings, "cli", _nats_url(settings), reconnect=False, connect_timeout=3)
        try:
            return await verify_county(EventStore(nc), county)
        finally:
            await nc.close()

    report = _run(run())
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
    settings = _settings(data_dir)
    service = projection.split(".")[0]
    reply = _run(_call(settings, county, "cmd", service, "rebuild", _operator(settings, county),
                       {"projection": projection}))
    d = reply["data"]
    out.print(f"rebuilt {d['projection']} for {county}: {d['events']} events in {d['seconds']} s")


@app.command()
def health(data_dir: Optional[Path] = typer.Option(None)) -> None:
    """Each service's status and each projection's checkpoint and lag."""
    from shared.messaging import health_subject
    from services.launcher import SERVICE_NAMES

    settings = _settings(data_dir)

    async def run():
        nc = await bus.connect(settings, "cli", _nats_url(settings), reconnect=False, connect_timeout=3)
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
    answers = _run(run())
    for name, h in answers.items():
        for p in h.get("projections") or [{}]:
            table.add_row(name, h["status"], p.get("projection", ""), p.get("county", ""),
                          str(p.get("checkpoint", "")), str(p.get("lag", "")), str(p.get("error", "") or ""))
    out.print(table)
    if any(h.get("status") != "ok" for h in answers.values()):  # degraded or unreachable: scripts see it
        raise typer.Exit(1)


@app.command()
def asyncapi(out: Optional[Path] = typer.Option(None, help="write to this file instead of stdout")) -> None:
    """The AsyncAPI document of every service's NATS subjects (generated by FastStream from the code)."""
    from faststream.specification import AsyncAPI

    from services.launcher import SERVICE_NAMES, create_service

    brokers = [create_service(name).build_broker("nats://127.0.0.1:4222") for name in SERVICE_NAMES]
    spec = AsyncAPI(*brokers, title="dangjian 党建 services", version="1.0.0",
                    description="Commands pb.<county>.cmd.<service>.<name> and queries "
                                "pb.<county>.qry.<service>.<name> (NATS request/reply)").to_specification()
    text = spec.to_json()
    if out:
        out.write_text(text, encoding="utf-8")
        err.print(f"wrote {out}")
    else:
        print(text)


security_cli.register(app, _settings, _nats_url, _run)


def main() -> None:
    app()


if __name__ == "__main__":
    sys.exit(main())
