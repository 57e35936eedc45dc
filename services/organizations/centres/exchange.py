"""Excel in and out of the centre registry: the import (all rows or none, as one unit of work in
chunks) and the registry export. The sheet itself is centre_sheet.py."""
from __future__ import annotations

import asyncio
from collections.abc import Callable

from shared.aggregate import Aggregate
from shared.errors import FieldError, forbidden, invalid
from shared.service import Context
from services.organizations.centres.centre_sheet import (centre_id_of, parse_centre_file, register_centres,
                                                         registry_xlsx)
from services.organizations.centres.commands import CentreImport, ImportCentres
from services.organizations.centres.domain import Centre
from services.organizations.centres.queries import ListCentres, centre_entries
from services.organizations.clock import today
from services.organizations.contracts import workbook_reply
from services.organizations.registry.domain import Organization
from services.organizations.registry.queries import branch_lookup, township_lookup
from services.organizations.upload import file_content, import_id


def _names(lookup: dict[str, str]) -> dict[str, str]:
    """id → name from a lookup of ids and names → ids."""
    names: dict[str, str] = {}
    for key, value in lookup.items():
        if key != value:
            names.setdefault(value, key)
    return names


async def import_centres(ctx: Context, cmd: ImportCentres,
                         check_scope: Callable[[Context, str | None], None]) -> tuple[CentreImport, int]:
    ctx.require_write()
    if ctx.actor.role not in {"county_admin", "platform_admin", "township_operator"}:
        raise forbidden("无权导入党群服务中心 / not allowed to import centres")
    content = file_content(cmd)
    townships, organizations = await asyncio.gather(township_lookup(ctx), branch_lookup(ctx))
    plan = parse_centre_file(cmd.filename or "centres.csv", content, townships, organizations)
    for row in plan.rows:  # outside the actor's township: refused as a whole (403), like the unit import
        check_scope(ctx, row.township_id)
    errors = [FieldError(f"row {e.row}: {e.field}", e.message) for e in plan.errors]
    if not plan.rows and not errors:
        raise invalid("empty_file", "file", "文件中没有党群服务中心数据 / the file has no centre rows")
    named = sorted({r.organization_id for r in plan.rows if r.organization_id})
    served = {s.state.id: s.state for s in await ctx.service.repo.load_many(ctx.county, [(Organization, o) for o in named])}
    refs = [(Centre, centre_id_of(ctx.county, r)) for r in plan.rows]
    the_import, day, known = import_id(ctx.county, content), today(), set(townships.values())

    def decide(states: list[Aggregate]):
        return register_centres(ctx.county, plan.rows, plan.row_numbers, {s.id: s for s in states}, known, served,
                                import_id=the_import, today=day, errors=errors,
                                check_scope=lambda township_id: check_scope(ctx, township_id))
    out = await ctx.service.repo.execute_many(ctx.county, ctx.meta, refs, decide, chunked=True)
    return out.result, out.seq


async def on_centres_export(ctx: Context, q: ListCentres) -> dict:
    """党群服务中心台账 as an Excel workbook (base64); its first columns import again unchanged."""
    entries = await centre_entries(ctx, q.township_id, q.level)
    townships, organizations = await asyncio.gather(township_lookup(ctx), branch_lookup(ctx))
    content = await asyncio.to_thread(registry_xlsx, entries, _names(townships), _names(organizations))
    return workbook_reply(f"党群服务中心台账_{ctx.county}_{today().isoformat()}.xlsx", content)
