"""The rectification ledger (整顿台账) and classification history, read from the
organizations.campaigns read-model (joined with the registry's organization names and townships):
filters, conversion rates (转化率), the Excel ledger. The only SQL of the campaigns context."""
from __future__ import annotations

import asyncio
import io
from collections import Counter, defaultdict
from datetime import date

import orjson
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from shared.spreadsheet import cells
from shared.rows import row_dicts
from shared.service import Context
from services.organizations.campaigns.commands import CAMPAIGN_PATTERN
from services.organizations.campaigns.domain import GRADE_RANK
from services.organizations.campaigns.projections.campaigns import CampaignsProjection
from services.organizations.contracts import TOKEN_PATTERN
from services.organizations.registry.projections.registry import RegistryProjection

STATUS_ZH = {"flagged": "已列入", "planned": "整顿中", "township_accepted": "乡镇已验收", "rectified": "已销号"}
CAMPAIGNS = "organizations.campaigns"


class CaseFilter(BaseModel):
    model_config = ConfigDict(extra="forbid")
    campaign: str | None = Field(None, pattern=CAMPAIGN_PATTERN, description="整顿批次 / campaign, e.g. 2026")
    township_id: str | None = Field(None, pattern=TOKEN_PATTERN, description="乡镇 / township")
    reason: str | None = Field(None, description="软弱涣散情形编码 / weak reason code")
    status: str | None = Field(None, pattern="^(flagged|planned|township_accepted|rectified|open)$",
                               description="open = 未销号 / not yet rectified")


def _tables(ctx: Context):
    return ctx.service.projection(CampaignsProjection), ctx.service.projection(RegistryProjection)


def case_rows(ctx: Context) -> list[dict]:
    """Every case of the county with its organization's name and township, by decision date."""
    cp, rp = _tables(ctx)
    k, o = cp.cases.c, rp.organizations.c
    with ctx.service.engine.connect() as conn:
        rows = conn.execute(select(cp.cases, o.name.label("organization_name"), o.township_id)
                            .select_from(cp.cases.outerjoin(rp.organizations, (o.county == k.county)
                                                            & (o.organization_id == k.organization_id)))
                            .where(k.county == ctx.county).order_by(k.decided_on, k.case_id)).all()
    return row_dicts(rows)


def jsonable(row: dict) -> dict:
    return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in row.items()}


def filtered(cases: list[dict], f: CaseFilter, today: date) -> list[dict]:
    """The cases the filter keeps, with reasons as a list and whether each is overdue / in follow-up."""
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
        ws.append(cells([c["case_id"], c["campaign"], c["organization_name"], c["township_id"], "、".join(c["reasons"]),
                   c["decided_on"], STATUS_ZH.get(c["status"], c["status"]), c["due_on"], c["first_secretary"],
                   c["liaison_leader"], c["secretary"], c["township_accepted_on"], c["accepted_on"],
                   c["follow_up_until"], "是" if c["overdue"] else "否", "是" if c["relapse_of"] else "否"]))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


async def cases(ctx: Context, in_scope_only: bool = True) -> list[dict]:
    """The ledger once the read-model reached the client's last write: the cases the actor may read
    (their township's, their branch's; README: Read rules), or all of the county's."""
    await ctx.service.caught_up(ctx.county, ctx.min_seq)
    rows = await asyncio.to_thread(case_rows, ctx)
    return [c for c in rows if ctx.actor.sees(c["township_id"], c["organization_id"])] if in_scope_only else rows


def visible_organization_ids(ctx: Context) -> set[str] | None:
    """The organizations whose records the actor may read; None: all of the county."""
    if ctx.actor.sees_whole_county:
        return None
    o = ctx.service.projection(RegistryProjection).organizations.c
    with ctx.service.engine.connect() as conn:
        rows = conn.execute(select(o.organization_id, o.township_id).where(o.county == ctx.county)).all()
    return {oid for oid, township in rows if ctx.actor.sees(township, oid)}


async def latest_case_id(ctx: Context, organization_id: str, exclude_campaign: str) -> str | None:
    """The organization's latest case of another campaign, as of the end of the log (relapse check)."""
    await ctx.service.caught_up(ctx.county, await ctx.service.store.last_seq(ctx.county), CAMPAIGNS)

    def latest() -> str | None:  # one row, not every case of the county (bench/notify.py: 2,000 flags slowed)
        k = _tables(ctx)[0].cases.c
        with ctx.service.engine.connect() as conn:
            return conn.execute(select(k.case_id).where(
                k.county == ctx.county, k.organization_id == organization_id, k.campaign != exclude_campaign)
                .order_by(k.decided_on.desc(), k.case_id.desc()).limit(1)).scalar()
    return await asyncio.to_thread(latest)


async def timeline(ctx: Context, case_id: str) -> list[dict]:
    """Every step of one case, when and by whom, in log order."""
    def steps(ctx: Context) -> list[dict]:
        t = ctx.service.projection(CampaignsProjection).timeline.c
        with ctx.service.engine.connect() as conn:
            rows = conn.execute(select(t.seq, t.event_type, t.on_date, t.summary, t.actor).where(
                t.county == ctx.county, t.case_id == case_id).order_by(t.seq)).all()
        return [jsonable(dict(r._mapping)) for r in rows]
    return await asyncio.to_thread(steps, ctx)


async def classification_history(ctx: Context, only: str | None) -> dict:
    """Each organization's classes over the years with the movement against the year before, and the
    count of each grade and movement per year."""
    await ctx.service.caught_up(ctx.county, ctx.min_seq)

    def load(ctx: Context) -> dict:
        c = ctx.service.projection(CampaignsProjection).classifications.c
        stmt = select(c.organization_id, c.year, c.grade, c.programme, c.item_set, c["items"], c.note).where(
            c.county == ctx.county)
        if only:
            stmt = stmt.where(c.organization_id == only)
        with ctx.service.engine.connect() as conn:
            rows = conn.execute(stmt.order_by(c.organization_id, c.year)).all()
        visible = visible_organization_ids(ctx)
        if visible is not None:
            rows = [r for r in rows if r.organization_id in visible]
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
    return await asyncio.to_thread(load, ctx)
