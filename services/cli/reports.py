"""Figures and exports: coverage (两新组织党组织覆盖), the coverage workbook, the rectification ledger."""
from __future__ import annotations

import base64
from datetime import date
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from services.cli.app import app, err, out
from services.cli.common import call, operator, run_or_exit, settings_for
from shared.print_layout import fit_to_print
from shared.settings import Settings


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
    settings = settings_for(data_dir)
    data = {"as_of": _as_of(as_of)} if as_of else {}
    report = run_or_exit(call(settings, county, "qry", "organizations", "coverage", operator(settings, county),
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
    reply = run_or_exit(call(settings, county, "qry", "organizations", name, operator(settings, county), data))["data"]
    content = fit_to_print(base64.b64decode(reply["content_b64"]))
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
    _save_export(settings_for(data_dir), county, "coverage_export", data, out_file)


@app.command("export-ledger")
def export_ledger(county: str, out_file: Path = typer.Argument(..., metavar="OUT.xlsx", help="file to write"),
                  campaign: Optional[str] = typer.Option(None, help="only this campaign (整顿批次), e.g. 2026"),
                  data_dir: Optional[Path] = typer.Option(None)) -> None:
    """Write the rectification ledger (软弱涣散党组织整顿台账) as an Excel workbook."""
    data = {"campaign": campaign} if campaign else {}
    _save_export(settings_for(data_dir), county, "rectification_ledger_export", data, out_file)
