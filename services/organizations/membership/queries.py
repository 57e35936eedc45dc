"""Queries of 党籍异动: the ledger of standing changes with totals per kind, and the same as an Excel
workbook. Every answer holds only the caller's scope (a branch secretary their branch, a township
operator their township, by where the member was when the change was recorded)."""
from __future__ import annotations

import asyncio
import io
from collections import Counter
from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from shared.messaging import ok
from shared.rows import county_rows
from shared.service import Context
from services.organizations.contracts import TOKEN_PATTERN, workbook_reply
from services.organizations.membership.domain import STANDING_ZH
from services.organizations.membership.projections.membership import MembershipProjection
from services.organizations.registry.queries import members_by_id, organizations_by_id
from services.organizations.scope import may_read

KINDS = ("deceased", "left", "expelled", "suspended", "restored", "cancelled")
KIND_ZH = {"deceased": "去世", "left": "出党", "expelled": "开除党籍", "suspended": "停止党籍", "restored": "恢复党籍",
           "cancelled": "取消预备党员资格"}


class StandingQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    branch_id: str | None = Field(None, pattern=TOKEN_PATTERN, description="只看此党支部 / one branch only")
    township_id: str | None = Field(None, pattern=TOKEN_PATTERN, description="只看此乡镇 / one township only")
    year: int | None = Field(None, ge=1921, le=2100, description="只看此年度 / one year only")


class StandingChangeEntry(BaseModel):
    member_id: str = Field(description="党员编号 / member id")
    name: str | None = Field(None, description="姓名 / name")
    kind: str = Field(description="异动类别 / deceased, left, expelled, suspended, restored, cancelled")
    standing: str = Field(description="异动后党籍状态 / standing after the change")
    previous: str = Field(description="异动前 / standing before")
    changed_on: date = Field(description="日期 / date")
    reason: str = Field(description="原因 / reason")
    decided_by: str = Field(description="决定机构 / who decided")
    branch_id: str | None = Field(None, description="异动时所在党支部 / the branch at the time")
    township_id: str | None = Field(None, description="乡镇 / its township")
    seq: int = Field(description="stream sequence of the change")


class StandingChangeList(BaseModel):
    totals: dict[str, int] = Field(description="各类异动人次 / changes per kind")
    items: list[StandingChangeEntry] = Field(description="按日期 / by date")


async def changes(ctx: Context, q: StandingQuery) -> list[dict]:
    await ctx.service.caught_up(ctx.county, ctx.min_seq)
    orgs = await organizations_by_id(ctx)

    def load(ctx: Context) -> list[dict]:
        c = ctx.service.projection(MembershipProjection).changes
        return county_rows(ctx.service.engine, c, ctx.county, c.c.changed_on, c.c.seq)
    rows = [r for r in await asyncio.to_thread(load, ctx) if may_read(ctx.actor, orgs.get(r["branch_id"]))]
    names = await members_by_id(ctx, sorted({r["member_id"] for r in rows}))
    out = []
    for r in rows:
        township = (orgs.get(r["branch_id"]) or {}).get("township_id")
        if (q.branch_id and r["branch_id"] != q.branch_id) or (q.township_id and township != q.township_id) \
                or (q.year and r["changed_on"].year != q.year):
            continue
        kind = "restored" if r["standing"] == "active" else r["standing"]
        out.append({"member_id": r["member_id"], "name": (names.get(r["member_id"]) or {}).get("name"), "kind": kind,
                    "standing": r["standing"], "previous": r["previous"], "changed_on": r["changed_on"],
                    "reason": r["reason"], "decided_by": r["decided_by"], "branch_id": r["branch_id"],
                    "township_id": township, "seq": r["seq"]})
    return out


async def on_standing_changes(ctx: Context, q: StandingQuery) -> dict:
    """党籍异动台账 with the number of changes of each kind."""
    items = await changes(ctx, q)
    totals = Counter(i["kind"] for i in items)
    return ok({"totals": {k: totals[k] for k in KINDS},
               "items": [{**i, "changed_on": i["changed_on"].isoformat()} for i in items]})


async def on_standing_changes_export(ctx: Context, q: StandingQuery) -> dict:
    """党籍异动台账 as an Excel workbook (base64)."""
    content = await asyncio.to_thread(ledger_xlsx, await changes(ctx, q))
    return workbook_reply(f"党籍异动台账_{ctx.county}.xlsx", content)


def ledger_xlsx(items: list[dict]) -> bytes:
    from openpyxl import Workbook as Book

    wb = Book()
    ws = wb.active
    ws.title = "党籍异动台账"
    ws.append(["党员编号", "姓名", "异动类别", "日期", "原因", "决定机构", "党支部", "乡镇", "异动前", "异动后"])
    for i in items:
        ws.append([i["member_id"], i["name"], KIND_ZH.get(i["kind"], i["kind"]), i["changed_on"], i["reason"],
                   i["decided_by"], i["branch_id"], i["township_id"], STANDING_ZH.get(i["previous"], i["previous"]),
                   STANDING_ZH.get(i["standing"], i["standing"])])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
