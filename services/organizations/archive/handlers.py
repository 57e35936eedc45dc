"""`archive_compare`: the county's stream against its archive copy, every differing sequence named
(shared/archive.py, docs/decisions/016-audit-log.md). The subject is listed in HANDLERS at the end."""
from __future__ import annotations

import asyncio

from pydantic import BaseModel, ConfigDict, Field

from shared.archive import ArchiveProjection, archived, compare
from shared.auth import COUNTY_DEPARTMENT
from shared.errors import forbidden
from shared.messaging import ok
from shared.service import Context

PAGE = 5000


class CompareArchive(BaseModel):
    """Compare the county's event stream with the archive copy, up to the archive's checkpoint."""

    model_config = ConfigDict(extra="forbid")


class ArchiveDifference(BaseModel):
    seq: int = Field(description="stream sequence")
    kind: str = Field(description="missing_in_archive, missing_in_log or different")
    subject: str | None = Field(description="the event's subject")
    detail: str = Field(description="what differs")


class ArchiveComparison(BaseModel):
    """How the stream and its archive copy compare."""

    checked: int = Field(description="events of the stream compared")
    upto: int = Field(description="compared up to this sequence (the archive's checkpoint)")
    differences: list[ArchiveDifference] = Field(description="every sequence where they differ (first 1,000)")
    more_differences: int = Field(description="differences beyond those listed")


async def on_archive_compare(ctx: Context, q: CompareArchive) -> dict:
    """Walk the stream and the archive table side by side; name each sequence that differs."""
    if ctx.actor.role not in (*COUNTY_DEPARTMENT, "auditor"):
        raise forbidden("只有县委组织部和审计人员可以比对存档 / only the county department and auditors compare")
    await ctx.service.caught_up(ctx.county, await ctx.service.store.last_seq(ctx.county), ArchiveProjection.name)
    projection = ctx.service.projection(ArchiveProjection)
    runner = ctx.service.runners.get((ArchiveProjection.name, ctx.county))
    upto = runner.checkpoint if runner else await ctx.service.store.last_seq(ctx.county)

    async def rows():
        after = 0
        while True:
            page = await asyncio.to_thread(_page, ctx, projection, after)
            for row in page:
                yield row
            if len(page) < PAGE:
                return
            after = page[-1].seq

    return ok(await compare(ctx.service.store.read_raw(ctx.county), rows(), upto))


def _page(ctx: Context, projection: ArchiveProjection, after: int) -> list:
    with ctx.service.engine.connect() as conn:
        return archived(conn, projection, ctx.county, after, PAGE)


HANDLERS = (  # (kind, name, handler, reply): subject pb.<county>.<kind>.organizations.<name>
    ("qry", "archive_compare", on_archive_compare, ArchiveComparison),
)
