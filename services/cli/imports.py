"""Spreadsheet imports (CSV or .xlsx): members, 两新组织. Nothing is imported when any row is wrong."""
from __future__ import annotations

import base64
from pathlib import Path
from typing import Optional

import typer

from services.cli.app import app, out
from services.cli.common import run_or_exit, settings_for
from services.cli.jobs import run_job


@app.command("import-members")
def import_members(county: str, file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True),
                   data_dir: Optional[Path] = typer.Option(None)) -> None:
    """Import members from CSV or .xlsx; nothing is imported when any row is wrong."""
    settings = settings_for(data_dir)
    data = {"filename": file.name, "content_b64": base64.b64encode(file.read_bytes()).decode()}
    reply = run_or_exit(run_job(settings, county, "organizations", "import_members", data, f"import {file.name}"))
    d = reply["data"]
    out.print(f"imported {d['imported']} member(s), {d['already_imported']} already imported (seq {reply['seq']})")


@app.command("import-enterprises")
def import_enterprises(county: str, file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True),
                       data_dir: Optional[Path] = typer.Option(None)) -> None:
    """Import 两新组织 (enterprises, social organizations) from CSV or .xlsx; nothing is imported when any row is wrong."""
    settings = settings_for(data_dir)
    data = {"filename": file.name, "content_b64": base64.b64encode(file.read_bytes()).decode()}
    reply = run_or_exit(run_job(settings, county, "organizations", "import_enterprises", data, f"import {file.name}"))
    d = reply["data"]
    out.print(f"imported {d['imported']} unit(s), {d['already_imported']} already imported (seq {reply['seq']})")
