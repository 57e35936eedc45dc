"""Queries of classification, rectification (the ledger 整顿台账, timelines, conversion rates,
overdue cases, Excel export) and election reminders (换届提醒)."""
from __future__ import annotations

import asyncio
import base64
import io
from collections import Counter, defaultdict
from datetime import date

import orjson
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from shared.errors import not_found
from shared.messaging import ok
from shared.service import Context, Routes
from services.organizations.elections import add_months
from services.organizations.projections.campaigns import CampaignsProjection
from services.organizations.projections.registry import RegistryProjection

GRADE_RANK = {"lagging": 0, "average": 1, "advanced": 2}
STATUS_ZH = {"flagged": "已列入", "planned": "整顿中", "township_accepted": "乡镇已验收", "rectified": "已销号"}


class CaseFilter(BaseModel):
    model_config = ConfigDict(extra="forbid")
    campaign: str | None = None
    township_id: str | None = None
    reason: str | None = None
    status: str | None = Field(None, pattern="^(flagged|planned|township_accepted|rectified|open)$")


def _tables(ctx: Context):
    return ctx.service.projection(CampaignsProjection), ctx.service.projection(RegistryProjection)


def _cases(ctx: Context) -> list[dict]:
    cp, rp = _tables(ctx)
    k, o = cp.cases.c, rp.organizations.c
    with ctx.service.engine.connect() as conn:
        rows = conn.execute(select(cp.cases, o.name.label("organization_name"), o.township_id)
                            .select_from(cp.cases.outerjoin(rp.organizations, (o.county == k.county)
                                                            & (o.organization_id == k.organization_id)))
                            .where(k.county == ctx.county).order_by(k.decided_on, k.case_id)).all()
    return [{key: v for key, v in r._mapping.items() if key != "county"} for r in rows]


def _jsonable(row: dict) -> dict:
    return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in row.items()}


def _filtered(cases: list[dict], f: CaseFilter, today: date) -> list[dict]:
    out = []
    for c in cases:
        if f.campaign and c["campaign"] != f.campaign or f.township_id and c["township_id"] != f.township_id:
            continue
        if f.reason and f.reason not in c["reasons"].split(","):
            continue
        if f.status == "open" and c["status"] == "rectified" or f.status not in (None, "open") and c["status"] != f.status:
            continue
        out.append({**c, "reasons": c["reasons"].split(","), "overdue": is_overdue(c, today),
                    "in_follow_up": bool(c["follow_up_until"] and c["follow_up_until"] >= today)})
    return out


def is_overdue(case: dict, today: date) -> bool:
    return case["status"] != "rectified" and case["due_on"] is not None and case["due_on"] < today


def conversion(cases: list[dict]) -> dict:
    """转化率 = accepted ÷ listed, per campaign and per year of the county decision."""
    def rates(key) -> list[dict]:
        listed, done = Counter(), Counter()
        for c in cases:
            listed[key(c)] += 1
            done[key(c)] += c["status"] == "rectified"
        return [{"key": k, "listed": listed[k], "rectified": done[k],
                 "conversion_rate": round(done[k] / listed[k], 4)} for k in sorted(listed)]
    return {"by_campaign": rates(lambda c: c["campaign"]),
            "by_year": rates(lambda c: str(c["decided_on"].year) if c["decided_on"] else "unknown")}


def ledger_xlsx(cases: list[dict]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "整顿台账"
    ws.append(["案例编号", "批次", "党组织", "乡镇", "软弱涣散情形", "县委确定日期", "状态", "整顿期限", "第一书记",
               "包联县领导", "调整后书记", "乡镇验收", "县级验收销号", "跟踪回访至", "是否超期", "复发"])
    for c in cases:
        ws.append([c["case_id"], c["campaign"], c["organization_name"], c["township_id"], "、".join(c["reasons"]),
                   c["decided_on"], STATUS_ZH.get(c["status"], c["status"]), c["due_on"], c["first_secretary"],
                   c["liaison_leader"], c["secretary"], c["township_accepted_on"], c["accepted_on"],
                   c["follow_up_until"], "是" if c["overdue"] else "否", "是" if c["relapse_of"] else "否"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


async def latest_case_id(ctx: Context, organization_id: str, exclude_campaign: str) -> str | None:
    await ctx.service.caught_up(ctx.county, await ctx.service.store.last_seq(ctx.county), "organizations.campaigns")
    cases = await asyncio.to_thread(_cases, ctx)
    mine = [c for c in cases if c["organization_id"] == organization_id and c["campaign"] != exclude_campaign]
    return mine[-1]["case_id"] if mine else None


def register(routes: Routes, today) -> None:
    async def cases(ctx: Context) -> list[dict]:
        await ctx.service.caught_up(ctx.county, ctx.min_seq)
        return await asyncio.to_thread(_cases, ctx)

    @routes.query("list_rectification_cases")
    async def on_list_cases(ctx: Context) -> dict:
        """The current list by township, reason, campaign, status (open = not yet rectified)."""
        f = CaseFilter.model_validate(ctx.data)
        items = _filtered(await cases(ctx), f, today())
        by_township = Counter(c["township_id"] for c in items)
        by_reason = Counter(r for c in items for r in c["reasons"])
        return ok({"total": len(items), "items": [_jsonable(c) for c in items],
                   "by_township": dict(by_township), "by_reason": dict(by_reason),
                   "overdue": sum(c["overdue"] for c in items)})

    @routes.query("rectification_case")
    async def on_case(ctx: Context) -> dict:
        """One case with its timeline (every step, when and by whom)."""
        cid = str(ctx.data.get("case_id", ""))
        found = [c for c in await cases(ctx) if c["case_id"] == cid]
        if not found:
            raise not_found("case_not_found", f"整顿案例不存在 / rectification case {cid} not found", "case_id")
        cp, _ = _tables(ctx)

        def steps(ctx: Context) -> list[dict]:
            t = cp.timeline.c
            with ctx.service.engine.connect() as conn:
                rows = conn.execute(select(t.seq, t.event_type, t.on_date, t.summary, t.actor).where(
                    t.county == ctx.county, t.case_id == cid).order_by(t.seq)).all()
            return [_jsonable(dict(r._mapping)) for r in rows]
        case = _filtered(found, CaseFilter(), today())[0]
        return ok({**_jsonable(case), "timeline": await asyncio.to_thread(steps, ctx)})

    @routes.query("rectification_summary")
    async def on_summary(ctx: Context) -> dict:
        """Conversion rate (转化率) per campaign and per year; overdue cases; relapses."""
        items = _filtered(await cases(ctx), CaseFilter(), today())
        return ok({**conversion(items), "overdue": [_jsonable(c) for c in items if c["overdue"]],
                   "relapses": [c["case_id"] for c in items if c["relapse_of"]]})

    @routes.query("rectification_ledger_export")
    async def on_ledger_export(ctx: Context) -> dict:
        """The rectification ledger (整顿台账) as an Excel workbook (base64)."""
        f = CaseFilter.model_validate(ctx.data)
        content = await asyncio.to_thread(ledger_xlsx, _filtered(await cases(ctx), f, today()))
        return ok({"filename": f"软弱涣散党组织整顿台账_{ctx.county}.xlsx",
                   "content_b64": base64.b64encode(content).decode()})

    @routes.query("classification_history")
    async def on_classification_history(ctx: Context) -> dict:
        """Each organization's classes over the years, with 晋位升级 (promoted) and 降级 (demoted)."""
        await ctx.service.caught_up(ctx.county, ctx.min_seq)
        only = ctx.data.get("organization_id")

        def load(ctx: Context) -> dict:
            cp, rp = _tables(ctx)
            c = cp.classifications.c
            stmt = select(c.organization_id, c.year, c.grade, c.programme, c.item_set, c["items"], c.note).where(
                c.county == ctx.county)
            if only:
                stmt = stmt.where(c.organization_id == only)
            with ctx.service.engine.connect() as conn:
                rows = conn.execute(stmt.order_by(c.organization_id, c.year)).all()
            per_org: dict[str, list] = defaultdict(list)
            for r in rows:
                prev = per_org[r.organization_id][-1]["grade"] if per_org[r.organization_id] else None
                move = None if prev is None else ("promoted" if GRADE_RANK[r.grade] > GRADE_RANK[prev] else
                                                  "demoted" if GRADE_RANK[r.grade] < GRADE_RANK[prev] else "unchanged")
                per_org[r.organization_id].append({"year": r.year, "grade": r.grade, "programme": r.programme,
                                                   "item_set": r.item_set, "items": orjson.loads(r.items),
                                                   "note": r.note, "movement": move})
            by_year: dict[int, Counter] = defaultdict(Counter)
            for history in per_org.values():
                for h in history:
                    by_year[h["year"]][h["grade"]] += 1
                    if h["movement"]:
                        by_year[h["year"]][h["movement"]] += 1
            return {"organizations": per_org, "by_year": {str(y): dict(v) for y, v in sorted(by_year.items())}}
        return ok(await asyncio.to_thread(load, ctx))

    @routes.query("election_reminders")
    async def on_election_reminders(ctx: Context) -> dict:
        """换届提醒: terms ending within 6 months, overdue, or not recorded at all."""
        await ctx.service.caught_up(ctx.county, ctx.min_seq)
        day = today()

        def load(ctx: Context) -> list[dict]:
            o = ctx.service.projection(RegistryProjection).organizations.c
            with ctx.service.engine.connect() as conn:
                rows = conn.execute(select(o.organization_id, o.name, o.organization_type, o.township_id,
                                           o.election_due_on, o.term_ends_on, o.status).where(
                    o.county == ctx.county, o.status == "active", o.organization_type != "party_group")).all()
            out = []
            for r in rows:
                due = r.election_due_on
                if due is None:
                    status = "no_term_recorded"
                elif due < day:
                    status = "overdue"
                elif due <= add_months(day, 3):
                    status = "due_in_3_months"
                elif due <= add_months(day, 6):
                    status = "due_in_6_months"
                else:
                    continue
                out.append(_jsonable({**dict(r._mapping), "reminder": status}))
            return sorted(out, key=lambda r: (r["election_due_on"] or "", r["name"]))
        return ok({"items": await asyncio.to_thread(load, ctx)})
