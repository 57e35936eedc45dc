"""Members' life in the Party: probations ending or overdue (预备期届满), mobile members by destination
and service point (流动党员), the service point import."""
from __future__ import annotations

import base64
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from services.cli.app import app, out
from services.cli.common import call, operator, run_or_exit, settings_for
from services.cli.jobs import run_job


@app.command("probation-due")
def probation_due(county: str, within_days: Optional[int] = typer.Option(None, min=1, max=366,
                                                                         help="days ahead (default: the rule table's)"),
                  data_dir: Optional[Path] = typer.Option(None)) -> None:
    """预备期即将届满和已超期未转正的预备党员 / probations ending soon, and overdue."""
    settings = settings_for(data_dir)
    data = {"within_days": within_days} if within_days else {}
    report = run_or_exit(call(settings, county, "qry", "organizations", "probation_due", operator(settings, county),
                              data))["data"]
    table = Table("状态", "党员", "党支部", "入党日期", "预备期届满", "剩余天数", "已延长",
                  title=f"预备期届满提醒 / probations of {county} as of {report['as_of']} "
                        f"(within {report['within_days']} days)")
    for label, rows in (("[red]已超期[/]", report["overdue"]), ("即将届满", report["due"])):
        for r in rows:
            table.add_row(label, r["name"], r["branch_name"] or r["branch_id"], r["admitted_on"] or "—",
                          r["probation_ends_on"], str(r["days_left"]), "是" if r["extended"] else "否")
    out.print(table)


@app.command("mobile-figures")
def mobile_figures(county: str, data_dir: Optional[Path] = typer.Option(None)) -> None:
    """流动党员: by destination, by service point, and members away long enough but not registered."""
    settings = settings_for(data_dir)
    report = run_or_exit(call(settings, county, "qry", "organizations", "mobile_figures", operator(settings, county),
                              {}))["data"]
    out.print(f"流动党员 / mobile members of {county}: {report['mobile_members']} (as of {report['as_of']})")
    destinations = Table("流入地 / destination", "人数", title="按流入地 / by destination")
    for d in report["by_destination"]:
        destinations.add_row(d["destination"], str(d["members"]))
    out.print(destinations)
    points = Table("服务站点 / service point", "人数", title="按服务站点 / by service point")
    for p in report["by_service_point"]:
        points.add_row(p["name"] or p["service_point_id"], str(p["members"]))
    out.print(points)
    away = Table("党员", "党支部", "外出日期", "外出月数", "外出地",
                 title=f"外出{report['min_months_away']}个月以上未登记 / away, not registered")
    for a in report["away_not_registered"]:
        away.add_row(a["name"] or a["member_id"], a["branch_name"] or a["branch_id"], a["away_since"],
                     str(a["months_away"]), a["destination"])
    out.print(away)


@app.command("import-service-points")
def import_service_points(county: str, file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True),
                          data_dir: Optional[Path] = typer.Option(None)) -> None:
    """Import 流动党员服务站点 from CSV or .xlsx (站点名称, 所在地, 依托单位, 联系人, 设立日期); all rows or none."""
    settings = settings_for(data_dir)
    data = {"filename": file.name, "content_b64": base64.b64encode(file.read_bytes()).decode()}
    reply = run_or_exit(run_job(settings, county, "organizations", "import_service_points", data,
                                f"import {file.name}"))
    d = reply["data"]
    out.print(f"imported {d['imported']} service point(s), {d['already_registered']} already registered "
              f"(seq {reply['seq']})")
