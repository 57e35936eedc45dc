"""Accounts from the command line: the first platform admin (and any later one). The password is
asked for twice without echo, or read from a file / stdin — never a command-line argument (it would
land in the shell history and the process list) and never printed."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from services.cli.app import app, err, out
from services.cli.common import call, operator, run_or_exit, settings_for
from shared.ids import PLATFORM


def _password(password_file: Optional[Path]) -> str:
    if password_file is not None:
        text = sys.stdin.read() if str(password_file) == "-" else password_file.read_text(encoding="utf-8")
        return text.rstrip("\r\n")
    return typer.prompt("密码 / password", hide_input=True, confirmation_prompt=True)


@app.command("create-admin")
def create_admin(login: str = typer.Argument(..., help="登录名 / login (a-z 0-9 _ -)"),
                 name: str = typer.Option("平台管理员", help="姓名 / the person's name"),
                 password_file: Optional[Path] = typer.Option(
                     None, help="read the password from this file ('-' = stdin) instead of asking"),
                 data_dir: Optional[Path] = typer.Option(None)) -> None:
    """Open a platform admin account (signs in at the workbench; adds counties and their admins)."""
    settings = settings_for(data_dir)
    password = _password(password_file)
    if len(password) < 8:
        err.print("[red]密码至少8位 / the password needs at least 8 characters[/]")
        raise typer.Exit(1)
    data = {"login": login, "name": name, "role": "platform_admin", "password": password}
    run_or_exit(call(settings, PLATFORM, "cmd", "organizations", "create_account", operator(settings, None), data))
    out.print(f"platform admin {login.strip().lower()!r} created; sign in at the workbench (/login)")
