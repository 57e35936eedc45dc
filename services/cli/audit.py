"""`dangjian audit …`: verify a county's log (or an export file, offline), export it signed, compare it with
the archive copy, publish and rotate the writers' event keys (docs/decisions/016-audit-log.md)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from services.cli.app import app, err, out
from services.cli.common import connect, run_or_exit, settings_for

audit = typer.Typer(help="审计：日志验证、导出、比对、签名公钥 / audit: verify, export, compare the log; event keys",
                    no_args_is_help=True)
app.add_typer(audit, name="audit")
DATA_DIR = typer.Option(None, help="the running system's data dir")


def _keys(settings, keys: Optional[Path]):
    from shared.signing import EventKeys
    path = keys or settings.credentials_path
    loaded = EventKeys.load(path)
    if not loaded.entries:
        err.print(f"[red]没有公钥 / no published event keys[/] in {path}")
        raise typer.Exit(2)
    return loaded


def print_report(report, as_json: bool, what: str) -> None:
    if as_json:
        out.print_json(json.dumps(report.as_dict(), ensure_ascii=False))
    elif report.ok:
        out.print(f"[green]OK[/] {what}: {report.checked} events (seq {report.first_seq}–{report.last_seq}), "
                  f"{report.signed} signed, {report.before_signing} from before signing; every signature, "
                  "chain and sequence intact")
    else:
        err.print(f"[red]BROKEN[/] {what}: {len(report.breaks) + report.more_breaks} break(s) in {report.checked} events")
        for brk in report.breaks:
            err.print(f"  {brk.describe()}", markup=False)
        if report.more_breaks:
            err.print(f"  … and {report.more_breaks} more")
    if not report.ok:
        raise typer.Exit(1)


def verify_county_log(settings, county: str, keys):
    from shared.eventstore import EventStore
    from shared.verify import verify_county

    async def ask():
        nc = await connect(settings)
        try:
            return await verify_county(EventStore(nc), county, keys)
        finally:
            await nc.close()

    return run_or_exit(ask())


@audit.command("verify")
def verify(county: Optional[str] = typer.Option(None, help="county code: check its live stream"),
           file: Optional[Path] = typer.Option(None, help="an export file (with FILE.manifest.json): offline"),
           keys: Optional[Path] = typer.Option(None, help="event-keys.json (default: the credentials dir's)"),
           as_json: bool = typer.Option(False, "--json", help="the report as JSON"),
           data_dir: Optional[Path] = DATA_DIR) -> None:
    """Check signatures, every aggregate's chain and the sequence; name every break; exit 1 if any."""
    settings = settings_for(data_dir)
    if (county is None) == (file is None):
        err.print("[red]give --county or --file[/] (one of them)")
        raise typer.Exit(2)
    loaded = _keys(settings, keys)
    if file is not None:
        from shared.audit_export import verify_export
        manifest, report = verify_export(file, loaded)
        print_report(report, as_json, f"export {file} of county {manifest['county'] if manifest else '?'}")
        return
    print_report(verify_county_log(settings, county, loaded), as_json, f"county {county}")


@audit.command("export")
def export(county: str = typer.Option(..., help="county code"),
           to: Path = typer.Option(..., help="the JSON Lines file to write (FILE.manifest.json beside it)"),
           data_dir: Optional[Path] = DATA_DIR) -> None:
    """Write the county's log as JSON Lines with a manifest signed by the export key."""
    from shared.audit_export import export_county
    from shared.eventstore import EventStore
    from shared.signing import EXPORTER, Signer
    settings = settings_for(data_dir)
    try:
        signer = Signer.load(settings.credentials_path, EXPORTER)
    except FileNotFoundError:
        err.print(f"[red]没有导出签名密钥 / no export key[/] {settings.credentials_path}/events-{EXPORTER}.pem")
        raise typer.Exit(2) from None

    async def run():
        nc = await connect(settings)
        try:
            return await export_county(EventStore(nc), county, to, signer)
        finally:
            await nc.close()

    manifest = run_or_exit(run())
    out.print(f"exported {manifest['count']} events of county {county} (seq {manifest['first_seq']}–"
              f"{manifest['last_seq']}) to {to}; manifest signed with {manifest['key_id']}")


@audit.command("keys")
def keys_(data_dir: Optional[Path] = DATA_DIR) -> None:
    """Print the published event keys (event-keys.json): what auditors verify signatures with."""
    out.print_json(json.dumps(_keys(settings_for(data_dir), None).document(), ensure_ascii=False))


@audit.command("rotate-key")
def rotate_key(writer: str = typer.Argument(..., help="organizations, ratings, notifications or audit-export"),
               revoke: bool = typer.Option(False, help="the old key leaked: refuse what it signs from now on"),
               data_dir: Optional[Path] = DATA_DIR) -> None:
    """Give a writer a new signing key; the old one is retired (and with --revoke, revoked in every county's
    log from its current position on). Running writers switch keys within a second; no restart."""
    from shared.signing import EXPORTER, WRITES, rotate_writer_key
    if writer not in (*WRITES, EXPORTER):
        err.print(f"[red]unknown writer {writer!r}[/]")
        raise typer.Exit(2)
    settings = settings_for(data_dir)
    if revoke:
        run_or_exit(_log_positions(settings))  # the system must be reachable to place the revocation
    old, new = rotate_writer_key(settings.credentials_path, writer)
    if not revoke:
        out.print(f"{writer}: new key {new}; {old} retired")
        return
    positions = run_or_exit(_revoke_after_switch(settings, old))
    out.print(f"{writer}: new key {new}; {old} retired and revoked: refused in {len(positions)} county log(s) "
              "from their next sequence on (and in every county added later)")


@audit.command("revoke-key")
def revoke_key_(key_id: str = typer.Argument(..., help="the retired key's id (dangjian audit keys)"),
                data_dir: Optional[Path] = DATA_DIR) -> None:
    """Revoke an already rotated key from each county log's current position on. For deployments that
    mount key files into containers (compose secrets): rotate-key, restart the writer, then revoke-key."""
    from shared.signing import EventKeys, revoke_key
    settings = settings_for(data_dir)
    entry = EventKeys.load(settings.credentials_path).entries.get(key_id)
    if entry is None or not entry.get("retired_at"):
        err.print(f"[red]{key_id!r} is not a retired key[/] (rotate it first: dangjian audit rotate-key)")
        raise typer.Exit(2)
    positions = run_or_exit(_log_positions(settings))
    revoke_key(settings.credentials_path, key_id, positions)
    out.print(f"{key_id} revoked: refused in {len(positions)} county log(s) from their next sequence on "
              "(and in every county added later)")


async def _log_positions(settings) -> dict[str, int]:
    """Each county's next stream sequence: what a revocation made now refuses from."""
    from shared.eventstore import EventStore
    nc = await connect(settings)
    try:
        store = EventStore(nc)
        return {county: await store.last_seq(county) + 1 for county in await store.list_counties()}
    finally:
        await nc.close()


async def _revoke_after_switch(settings, key_id: str) -> dict[str, int]:
    """Wait until every running writer signs with its new key (they look at the key file every RELOAD_S;
    a command sealed just before may still be on its way), then record where each county's log stands."""
    import asyncio

    from shared.signing import RELOAD_S, revoke_key
    await asyncio.sleep(2 * RELOAD_S + 1.0)
    positions = await _log_positions(settings)
    revoke_key(settings.credentials_path, key_id, positions)
    return positions


@audit.command("compare")
def compare(county: str = typer.Option(..., help="county code"), as_json: bool = typer.Option(False, "--json"),
            data_dir: Optional[Path] = DATA_DIR) -> None:
    """Compare the county's stream with its archive copy (SQL); name every differing sequence; exit 1 if any."""
    from services.cli.common import call
    from shared.auth import Actor
    settings = settings_for(data_dir)
    reply = run_or_exit(call(settings, county, "qry", "organizations", "archive_compare",
                             Actor(sub="cli-audit", role="auditor", county=county), {}))
    d = reply["data"]
    if as_json:
        out.print_json(json.dumps(d, ensure_ascii=False))
    elif not d["differences"]:
        out.print(f"[green]OK[/] county {county}: {d['checked']} events up to seq {d['upto']}, stream and archive agree")
    else:
        err.print(f"[red]DIFFERENT[/] county {county}: {len(d['differences']) + d['more_differences']} difference(s)")
        for x in d["differences"]:
            err.print(f"  seq {x['seq']} {x['subject'] or ''} [{x['kind']}]: {x['detail']}", markup=False)
    if d["differences"]:
        raise typer.Exit(1)
