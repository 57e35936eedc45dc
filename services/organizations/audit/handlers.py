"""Audit reads of the organizations service: `organization_status_as_of` (status.py) and `archive_compare`,
the county's stream against its archive copy, every differing sequence named (shared/archive.py,
docs/decisions/016-audit-log.md). The subjects are listed in HANDLERS at the end."""
from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from datetime import UTC, date, datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shared.archive import ArchiveProjection, archived, compare
from shared.auth import COUNTY_DEPARTMENT
from shared.direct_wire import read_log
from shared.errors import forbidden, not_found
from shared.messaging import ok
from shared.aggregate import Repository
from shared.service import Context
from services.organizations.audit import status
from services.organizations.clock import today
from services.organizations.contracts import TOKEN_PATTERN
from services.organizations.scope import check_sees

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

    async with contextlib.aclosing(read_log(ctx.service.store, ctx.county)) as log:  # a long read: own connection
        return ok(await compare(log, rows(), upto))


def _page(ctx: Context, projection: ArchiveProjection, after: int) -> list:
    with ctx.service.engine.connect() as conn:
        return archived(conn, projection, ctx.county, after, PAGE)


class OrganizationStatusQuery(BaseModel):
    """An organization's status (lifecycle, classification, rectification) as of a date, as known at a time."""

    model_config = ConfigDict(extra="forbid")
    organization_id: str = Field(pattern=TOKEN_PATTERN, description="the organization")
    as_of: date | None = Field(None, description="业务日期；默认今天 / business date; default today")
    known_at: AwareDatetime | None = Field(None, description="记录时间；默认现在 / recorded time; default now")


class StatusEvent(BaseModel):
    seq: int = Field(description="stream sequence")
    type: str = Field(description="event type")
    business_date: str = Field(description="the date it took effect (approved, decided, accepted …)")
    recorded_at: str = Field(description="when it was recorded (UTC)")
    recorded_by: str = Field(description="who recorded it")
    counted: bool = Field(description="effective by as_of (and recorded by known_at): part of the answer")


class OrganizationStatusAsOf(BaseModel):
    """An organization's status as of a business date as the county knew it at a recorded time."""

    organization_id: str = Field(description="the organization")
    as_of: str = Field(description="business date")
    known_at: str = Field(description="recorded time (UTC)")
    lifecycle: dict[str, Any] | None = Field(description="name, type, township, parent, status (active / merged / "
                                                         "dissolved), merged_into, committee term; null: not yet")
    classifications: list[dict[str, Any]] = Field(description="分类定级 per year: grade and movement")
    rectification_cases: list[dict[str, Any]] = Field(description="整顿 cases: status, reasons, dates")
    provenance: list[StatusEvent] = Field(description="every event known at known_at, in log order")


async def on_organization_status_as_of(ctx: Context, q: OrganizationStatusQuery) -> dict:
    """Fold the organization's, its classification's and its rectification cases' events as of D, known at T."""
    as_of, known_at = q.as_of or today(), (q.known_at or datetime.now(UTC)).astimezone(UTC)
    store, county = ctx.service.store, ctx.county
    org, classification = status.new_states(q.organization_id)
    seen = status.fold(org, await store.load(county, Repository.subject(county, type(org), q.organization_id)),
                       as_of, known_at)
    org_now = (await ctx.service.repo.get(county, type(org), q.organization_id)).state  # scope: where it is now
    if not org_now.exists:
        raise not_found("organization_not_found", f"本县无此党组织 / organization {q.organization_id} not found",
                        "organization_id")
    check_sees(ctx.actor, org_now.township_id, q.organization_id, f"organization {q.organization_id}")
    seen += status.fold(classification, await store.load(
        county, Repository.subject(county, type(classification), q.organization_id)), as_of, known_at)
    cases: dict[str, list] = defaultdict(list)
    async for ev in store.read_matching(county, f"pb.{county}.evt.org.rectification.*.{q.organization_id}"):
        cases[ev.aggregate_id].append(ev)
    folded = []
    for case_id, events in cases.items():
        case = status.new_case(case_id)
        seen += status.fold(case, events, as_of, known_at)
        if case.status is not None:
            folded.append(status.case(case))
    return ok({"organization_id": q.organization_id, "as_of": as_of.isoformat(),
               "known_at": known_at.isoformat().replace("+00:00", "Z"), "lifecycle": status.lifecycle(org),
               "classifications": status.classifications(classification), "rectification_cases": folded,
               "provenance": sorted(seen, key=lambda e: e["seq"])})


HANDLERS = (  # (kind, name, handler, reply): subject pb.<county>.<kind>.organizations.<name>
    ("qry", "archive_compare", on_archive_compare, ArchiveComparison),
    ("qry", "organization_status_as_of", on_organization_status_as_of, OrganizationStatusAsOf),
)
