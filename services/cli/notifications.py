"""Notifications from the command line: subscriptions, their delivery log, replaying failed deliveries."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from services.cli.app import app, out
from services.cli.common import call, operator, run_or_exit, settings_for

notifications = typer.Typer(help="通知：订阅、投递记录、重新投递 / notification subscriptions and deliveries")
app.add_typer(notifications, name="notifications")


@notifications.command("subscriptions")
def subscriptions(county: str, data_dir: Optional[Path] = typer.Option(None)) -> None:
    """List the county's subscriptions (secrets are never shown)."""
    settings = settings_for(data_dir)
    reply = run_or_exit(call(settings, county, "qry", "notifications", "subscriptions", operator(settings, county), {}))
    table = Table("id", "name", "channel", "url", "enabled", "reason")
    for s in reply["data"]["items"]:
        table.add_row(s["subscription_id"], s["name"], s["channel"], s["url"], "yes" if s["enabled"] else "no",
                      s.get("disabled_reason") or "")
    out.print(table)


@notifications.command("deliveries")
def deliveries(county: str, subscription_id: str, status: Optional[str] = typer.Option(None),
               data_dir: Optional[Path] = typer.Option(None)) -> None:
    """A subscription's delivery log: each notification's state and its attempts."""
    settings = settings_for(data_dir)
    reply = run_or_exit(call(settings, county, "qry", "notifications", "delivery_log", operator(settings, county),
                             {"subscription_id": subscription_id, "status": status, "size": 100}))
    table = Table("seq", "notification", "status", "attempts", "last answer")
    for d in reply["data"]["items"]:
        last = d["log"][0] if d["log"] else {}
        answer = f"{last.get('status_code') or '-'} {last.get('error') or ''}".strip() if last else ""
        table.add_row(str(d["seq"]), d["notification_id"], d["status"], str(d["attempts"]), answer)
    out.print(table)


@notifications.command("replay")
def replay(county: str, subscription_id: str,
           everything: bool = typer.Option(False, "--all", help="every matching notification, delivered ones too"),
           from_seq: Optional[int] = typer.Option(None, help="from this stream position on"),
           data_dir: Optional[Path] = typer.Option(None)) -> None:
    """Send failed deliveries of a subscription again (or, with --all, everything from --from-seq on)."""
    settings = settings_for(data_dir)
    reply = run_or_exit(call(settings, county, "cmd", "notifications", "replay_deliveries", operator(settings, county),
                             {"subscription_id": subscription_id, "only_failed": not everything, "from_seq": from_seq}))
    out.print(f"{reply['data']['queued']} deliveries queued again")


@notifications.command("run")
def run(county: str, as_of: Optional[str] = typer.Option(None, help="YYYY-MM-DD (default: today, CST)"),
        data_dir: Optional[Path] = typer.Option(None)) -> None:
    """Evaluate the time-based rules (换届/整顿 reminders, overdue, units still unorganized) now."""
    settings = settings_for(data_dir)
    reply = run_or_exit(call(settings, county, "cmd", "notifications", "run_conditions", operator(settings, county),
                             {"as_of": as_of}))
    out.print(f"{reply['data']['decided']} due, {reply['data']['queued']} new notifications queued")
