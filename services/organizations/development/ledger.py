"""Reads of the organizations.development read-model and the figures made from them (pure functions
below the reads): the pipeline per branch and township, probations ending soon or overdue, branches
without a development candidate for years, and the Excel ledger (发展党员台账)."""
from __future__ import annotations

import asyncio
import io
from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select

from shared.spreadsheet import cells
from shared.auth import Actor
from shared.rows import county_rows
from shared.service import Context
from services.organizations.development.projections.development import DevelopmentProjection
from services.organizations.lifecycle.elections import add_months
from services.organizations.registry.domain import MEMBER_HOLDING_TYPES
from services.organizations.registry.queries import members_by_id, organizations_by_id
from services.organizations.scope import may_read
from services.organizations.rules.queries import rule_book

STAGES = ("applicant", "activist", "candidate", "probationary")  # the open pipeline, in order
STAGE_ZH = {"applicant": "入党申请人", "activist": "入党积极分子", "candidate": "发展对象", "probationary": "预备党员",
            "full": "已转正", "cancelled": "取消预备党员资格", "discontinued": "终止培养"}


# -- reads ---------------------------------------------------------------------------------------
async def applicants(ctx: Context, on: date | None = None) -> tuple[list[dict], dict[str, dict]]:
    """Every row the caller may see, with its probation's end filled in, and the organizations; with `on`,
    each row's stage as it stood on that date (the steps dated after it left out)."""
    await ctx.service.caught_up(ctx.county, ctx.min_seq)
    orgs = await organizations_by_id(ctx)
    book = await rule_book(ctx)
    rows = await asyncio.to_thread(_applicant_rows, ctx)
    members = await members_by_id(ctx, [r["applicant_id"] for r in rows if r["stage"] == "probationary"])
    months = lambda day: book.in_force(day).development.probation_months  # noqa: E731
    if on is not None:
        rows = [{**r, "stage": stage} for r in rows if (stage := stage_as_of(r, on)) is not None]
    return [with_probation_end(with_standing(r, members, on), months) for r in rows
            if may_read(ctx.actor, orgs.get(r["branch_id"]))], orgs


def stage_as_of(row: dict, on: date) -> str | None:
    """The stage on `on` from the row's step dates (None: not yet applied); an end (cancelled,
    discontinued) or 转正 after `on` leaves the stage it ended."""
    if row["ended_on"] is not None and row["ended_on"] <= on:
        return row["stage"]
    for stage, day in (("full", row["full_from"]), ("probationary", row["admitted_on"]),
                       ("candidate", row["candidate_on"]), ("activist", row["activist_on"]),
                       ("applicant", row["applied_on"])):
        if day is not None and day <= on:
            return stage
    return None


def with_standing(row: dict, members: dict[str, dict], on: date | None = None) -> dict:
    """A probationary member who died, left or was expelled is no longer on probation (党籍异动) — from the
    change's date, when figures are asked as of a date (the latest change is the one kept)."""
    member = members.get(row["applicant_id"])
    since = member and member.get("standing_since")
    if on is not None and since is not None and since > on:
        return row
    if row["stage"] == "probationary" and member is not None and member["standing"] != "active":
        return {**row, "stage": member["standing"]}
    return row


async def last_candidates(ctx: Context, on: date) -> dict[str, date]:
    """Each branch's latest development candidate designation (确定发展对象) on or before `on`."""
    def load(ctx: Context) -> dict[str, date]:
        c = ctx.service.projection(DevelopmentProjection).candidates.c
        with ctx.service.engine.connect() as conn:
            return dict(conn.execute(select(c.branch_id, func.max(c.designated_on)).where(c.county == ctx.county,
                                                                                        c.designated_on <= on)
                                     .group_by(c.branch_id)).all())
    await ctx.service.caught_up(ctx.county, ctx.min_seq)
    return await asyncio.to_thread(load, ctx)


def _applicant_rows(ctx: Context) -> list[dict]:
    return county_rows(ctx.service.engine, ctx.service.projection(DevelopmentProjection).applicants, ctx.county)


# -- pure ----------------------------------------------------------------------------------------
def with_probation_end(row: dict, probation_months: Callable[[date], int]) -> dict:
    """A probationary member registered without the pipeline: probation ends after the rule table's
    length in force on the joining date (until an extension records the end)."""
    if row["stage"] == "probationary" and row["probation_ends_on"] is None and row["admitted_on"]:
        return {**row, "probation_ends_on": add_months(row["admitted_on"], probation_months(row["admitted_on"]))}
    return row


def entry(row: dict, orgs: dict[str, dict]) -> dict[str, Any]:
    org = orgs.get(row["branch_id"]) or {}
    out = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in row.items() if k != "county"}
    out["training_contacts"] = row["training_contacts"].split("、") if row["training_contacts"] else []
    return {**out, "branch_name": org.get("name"), "township_id": org.get("township_id")}


def pipeline(rows: list[dict], orgs: dict[str, dict]) -> dict[str, Any]:
    """Open pipeline counts by stage, per branch and per township (only branches with someone in it)."""
    per_branch: dict[str, Counter] = {}
    for r in rows:
        if r["stage"] in STAGES:
            per_branch.setdefault(r["branch_id"], Counter())[r["stage"]] += 1
    per_township: dict[str | None, Counter] = {}
    by_branch = []
    for branch_id, counts in sorted(per_branch.items()):
        org = orgs.get(branch_id) or {}
        per_township.setdefault(org.get("township_id"), Counter()).update(counts)
        by_branch.append({"branch_id": branch_id, "name": org.get("name"), "township_id": org.get("township_id"),
                          **_counts(counts)})
    total = sum(per_branch.values(), Counter())
    return {"by_branch": by_branch, "total": _counts(total),
            "by_township": [{"township_id": t, **_counts(c)}
                            for t, c in sorted(per_township.items(), key=lambda kv: kv[0] or "")]}


def _counts(c: Counter) -> dict[str, int]:
    return {"applicants": c["applicant"], "activists": c["activist"], "candidates": c["candidate"],
            "probationary": c["probationary"]}


def probation_due(rows: list[dict], orgs: dict[str, dict], on: date, within_days: int) -> dict[str, Any]:
    """Probations ending within `within_days` of `on` (not yet decided) and those already past their end."""
    due, overdue = [], []
    for r in rows:
        if r["stage"] != "probationary" or r["probation_ends_on"] is None:
            continue
        ends = r["probation_ends_on"]
        item = {"member_id": r["applicant_id"], "name": r["name"], "branch_id": r["branch_id"],
                "branch_name": (orgs.get(r["branch_id"]) or {}).get("name"),
                "township_id": (orgs.get(r["branch_id"]) or {}).get("township_id"),
                "admitted_on": r["admitted_on"].isoformat() if r["admitted_on"] else None,
                "probation_ends_on": ends.isoformat(), "extended": r["extensions"] > 0,
                "days_left": (ends - on).days}
        if ends < on:
            overdue.append(item)
        elif ends <= on + timedelta(days=within_days):
            due.append(item)
    key = lambda i: (i["probation_ends_on"], i["member_id"])  # noqa: E731
    return {"as_of": on.isoformat(), "within_days": within_days, "due": sorted(due, key=key),
            "overdue": sorted(overdue, key=key)}


def branches_without_candidates(orgs: dict[str, dict], last: dict[str, date], on: date,
                                years: int) -> list[dict[str, Any]]:
    """Active branches (and committees holding members) whose latest development candidate — or, with
    none recorded, their founding approval — is `years` or more before `on`."""
    cutoff = add_months(on, -12 * years)
    items = []
    for org in orgs.values():
        if org["status"] != "active" or org["organization_type"] not in MEMBER_HOLDING_TYPES:
            continue
        latest = last.get(org["organization_id"])
        since = latest or org["approved_on"]
        if since is not None and since <= cutoff:
            items.append({"branch_id": org["organization_id"], "name": org["name"], "township_id": org["township_id"],
                          "last_candidate_on": latest.isoformat() if latest else None,
                          "since": since.isoformat(), "days_without": (on - since).days})
    return sorted(items, key=lambda i: (i["since"], i["branch_id"]))


def ledger_xlsx(rows: list[dict], orgs: dict[str, dict]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "发展党员台账"
    ws.append(["编号", "姓名", "性别", "出生日期", "党支部", "乡镇", "阶段", "申请日期", "确定积极分子", "培养联系人",
               "确定发展对象", "支部大会接收", "上级审批", "预备期届满", "延长次数", "转正（党龄起算）", "终止/取消日期", "原因"])
    for r in rows:
        org = orgs.get(r["branch_id"]) or {}
        ws.append(cells([r["applicant_id"], r["name"], {"male": "男", "female": "女"}.get(r["gender"] or "", r["gender"]),
                   r["birth_date"], org.get("name") or r["branch_id"], org.get("township_id"),
                   STAGE_ZH.get(r["stage"], r["stage"]), r["applied_on"], r["activist_on"], r["training_contacts"],
                   r["candidate_on"], r["admitted_on"], r["approved_on"], r["probation_ends_on"], r["extensions"],
                   r["full_from"], r["ended_on"], r["end_reason"]]))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
