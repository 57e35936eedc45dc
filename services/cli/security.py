"""The CLI's security commands and helpers: the first-run admin token, revoking a user's tokens, and
the credentials of the clustered topology."""
from __future__ import annotations

import os
import secrets
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Optional

import typer

from services.cli.app import app, out
from services.cli.common import connect, run_or_exit, settings_for
from services.notifications.secrets import ensure_key
from shared.auth import Actor, issue_token
from shared.credentials import COMPONENTS, SIGNING_KEY, VERIFY_KEY, Keyring, write_secret
from shared.natsconf import cluster_auth_config
from shared.settings import Settings

ADMIN_TOKEN_FILE = "admin-token"


def can_sign(settings: Settings) -> bool:
    return bool(settings.jwt_signing_key) or (settings.credentials_path / SIGNING_KEY).exists()


def announce_admin_token(settings: Settings, interactive: bool | None = None) -> None:
    """Hand out a short-lived platform_admin token at start: printed on an interactive terminal only;
    otherwise (a container's log, a pipe) written to a 0600 file whose path is printed."""
    if not can_sign(settings):
        return  # e.g. a gateway or service container: it has the public key only
    ttl = timedelta(minutes=settings.first_token_ttl_minutes)
    token = issue_token(settings.secret(), Actor(sub="admin", role="platform_admin"), ttl)
    until = (datetime.now(UTC) + ttl).astimezone().strftime("%Y-%m-%d %H:%M %Z")
    interactive = sys.stdout.isatty() if interactive is None else interactive
    if interactive:
        out.print(f"Admin token (platform_admin, valid {settings.first_token_ttl_minutes} min, until {until}; "
                  f"later ones: `dangjian token`):\n{token}")
        return
    path = settings.credentials_path / ADMIN_TOKEN_FILE
    path.unlink(missing_ok=True)
    write_secret(path, token + "\n")
    out.print(f"Admin token (platform_admin, valid {settings.first_token_ttl_minutes} min, until {until}) "
              f"written to {path.resolve()} (mode 0600; not printed: this output is not a terminal)")


@app.command("revoke-tokens")
def revoke_tokens(sub: str = typer.Option(..., help="the user whose tokens are refused from now on"),
                  county: Optional[str] = typer.Option(None, help="only their tokens for this county "
                                                       "(default: every county)"),
                  data_dir: Optional[Path] = typer.Option(None)) -> None:
    """Refuse every token of a user issued until now (each gateway instance within a moment)."""
    from shared.revocations import revoke

    settings = settings_for(data_dir)

    async def go() -> float:
        nc = await connect(settings)
        try:
            return await revoke(nc.jetstream(), sub, county, by="cli")
        finally:
            await nc.close()

    at = run_or_exit(go())
    when = datetime.fromtimestamp(at, UTC).astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")
    out.print(f"tokens of {sub!r} issued until {when} are refused ({'county ' + county if county else 'every county'})")


@app.command("credentials")
def credentials(out_dir: Path = typer.Argument(..., help="directory to write the secrets into (created, 0700)"),
                nodes: str = typer.Option("nats-1,nats-2,nats-3", help="NATS servers of the cluster"),
                pg_host: str = typer.Option("postgres", help="PostgreSQL host (pgpass)")) -> None:
    """Generate the clustered topology's secrets (docker-compose.yml mounts them): one nkey per
    component, the token key pair, nats-auth.conf (public keys, permissions, route password; the
    committed deploy/nats.conf includes it), the PostgreSQL password and the notifications' Fernet key. Existing files are kept."""
    keyring = Keyring(out_dir).ensure(COMPONENTS)
    conf = out_dir / "nats-auth.conf"
    if not conf.exists():
        write_secret(conf, cluster_auth_config(keyring.public_keys(), secrets.token_urlsafe(32), tuple(nodes.split(","))))
    if not (out_dir / "postgres_password").exists():
        password = secrets.token_urlsafe(24)
        write_secret(out_dir / "postgres_password", password + "\n")
        write_secret(out_dir / "pgpass", f"{pg_host}:5432:dangjian:dangjian:{password}\n")  # libpq PGPASSFILE
    ensure_key(out_dir)  # the notifications instances' shared key for endpoint secrets (decision 015)
    os.chmod(out_dir / VERIFY_KEY, 0o644)
    out.print(f"credentials in {out_dir.resolve()}: " + ", ".join(sorted(p.name for p in out_dir.iterdir())))
