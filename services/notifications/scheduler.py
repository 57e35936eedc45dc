"""The scheduler of time-based rules (services/notifications/conditions.py): daily at the county's
configured China Standard Time (`daily_at` of its notification rules), on the instance that runs the
county's notifications.rules projection; and on demand (`run_conditions`, API and CLI). Decided
notifications go through the outbox and the issuer like any other; ids already issued are skipped."""
from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import orjson
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select

from shared.db import upsert
from shared.messaging import ok, stop_task
from shared.service import Context
from services.notifications.conditions import CaseRow, OrgRow, UnitRow, due_conditions
from services.notifications.member_conditions import AwayRow, BranchRow, ProbationRow, member_conditions
from services.notifications.projections.feed import FeedProjection
from services.notifications.projections.rules_more import MoreFacts
from services.notifications.projections.rules_state import ConnFacts, RulesStateProjection, outbox

CST = ZoneInfo("Asia/Shanghai")
CHECK_EVERY_S = 30.0


class RunConditions(BaseModel):
    """按时规则立即评估一次（提醒、逾期、N 天后），不必等每日定时。"""

    model_config = ConfigDict(extra="forbid")
    as_of: date | None = Field(None, description="evaluate as of this day (default: today, China Standard Time)")


class ConditionsRun(BaseModel):
    decided: int = Field(description="notifications the time-based rules decide as of the day")
    queued: int = Field(description="of those, not issued before: queued to be issued now")


class Scheduler:
    def __init__(self, service):
        self.service = service
        self.last_run: dict[str, date] = {}
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="notifications:scheduler")

    async def stop(self) -> None:
        if self._task:
            await stop_task(self._task)

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(CHECK_EVERY_S)
            now = datetime.now(CST)
            for county in [c for (name, c) in list(self.service.runners) if name == RulesStateProjection.name]:
                with contextlib.suppress(Exception):  # the database briefly away: the next check runs it
                    if self.last_run.get(county) != now.date() and now.time() >= await self._daily_at(county, now):
                        await self.run(county, now.date())
                        self.last_run[county] = now.date()

    async def _daily_at(self, county: str, now: datetime) -> time:
        settings = await asyncio.to_thread(self._read, county, lambda facts: facts.rule_settings())
        hours, minutes = settings.in_force(now.date()).daily_at.split(":")
        return time(int(hours), int(minutes))

    def _read(self, county: str, fn):
        with self.service.engine.connect() as conn:
            return fn(ConnFacts(self.service.projection(RulesStateProjection), conn, county))

    async def run(self, county: str, today: date) -> tuple[int, int]:
        """Evaluate the county's time-based rules as of `today`; queue what was not issued before."""
        rules = self.service.projection(RulesStateProjection)
        feed = self.service.projection(FeedProjection)

        def work() -> tuple[int, int]:
            with self.service.engine.begin() as conn:
                facts = ConnFacts(rules, conn, county)
                orgs, cases, units = _facts(conn, rules, county)
                settings = facts.rule_settings()
                drafts = due_conditions(county, today, orgs, cases, units, settings)
                table = MoreFacts(rules.more, conn, county, facts).rule_table(today)
                drafts += [d for d in member_conditions(county, today, table, orgs, *_member_facts(conn, rules, county, orgs))
                           if settings.enabled(d.kind, today)]
                n = feed.notifications
                issued = set(conn.execute(select(n.c.notification_id).where(
                    n.c.county == county, n.c.notification_id.in_([d.notification_id for d in drafts]))).scalars())
                fresh = [d for d in drafts if d.notification_id not in issued]
                now = datetime.now(UTC)
                upsert(conn, outbox, [{"county": county, "notification_id": d.notification_id, "causation_id": None,
                                       "payload": orjson.dumps(d.payload()).decode(), "decided_at": now}
                                      for d in fresh], ("county", "notification_id"))
                return len(drafts), len(fresh)

        decided, queued = await asyncio.to_thread(work)
        self.service.issuer.poke()
        return decided, queued


def _facts(conn, rules: RulesStateProjection, county: str):
    o, c, u = rules.orgs, rules.cases, rules.units
    orgs = {r.organization_id: OrgRow(r.organization_id, r.name, r.township_id, r.term_ends_on, r.election_due_on)
            for r in conn.execute(select(o).where(o.c.county == county, o.c.dissolved == 0))}
    cases = [CaseRow(r.case_id, r.organization_id, r.due_on)
             for r in conn.execute(select(c).where(c.c.county == county, c.c.open == 1))]
    units = [UnitRow(r.enterprise_id, r.name, r.township_id, r.qualified_since)
             for r in conn.execute(select(u).where(u.c.county == county, u.c.qualified_since.is_not(None)))]
    return orgs, cases, units


def _member_facts(conn, rules: RulesStateProjection, county: str, orgs: dict[str, OrgRow]):
    a, w, m, o = rules.more["applicants"], rules.more["away"], rules.more["members"], rules.orgs
    probations = [ProbationRow(r.applicant_id, r.name, r.branch_id, r.probation_ends_on) for r in conn.execute(
        select(a).where(a.c.county == county, a.c.stage == "probationary", a.c.probation_ends_on.is_not(None)))]
    last = dict(conn.execute(select(a.c.branch_id, func.max(a.c.candidate_on)).where(
        a.c.county == county, a.c.candidate_on.is_not(None)).group_by(a.c.branch_id)).all())
    branches = [BranchRow(orgs[r.organization_id], r.organization_type, r.approved_on, last.get(r.organization_id))
                for r in conn.execute(select(o).where(o.c.county == county, o.c.dissolved == 0))
                if r.organization_id in orgs]
    away = [AwayRow(r.member_id, r.name, r.branch_id, r.away_since) for r in conn.execute(
        select(w.c.member_id, m.c.name, w.c.branch_id, w.c.away_since)
        .outerjoin(m, (m.c.county == w.c.county) & (m.c.member_id == w.c.member_id))
        .where(w.c.county == county, w.c.status == "away", w.c.away_since.is_not(None)))]
    return probations, branches, away


async def on_run_conditions(ctx: Context, cmd: RunConditions) -> dict:
    """按时规则立即评估（县委组织部）。"""
    ctx.require_county_department("只有县委组织部可以立即评估提醒 / only the county department runs the reminders")
    decided, queued = await ctx.service.scheduler.run(ctx.county, cmd.as_of or datetime.now(CST).date())
    return ok(ConditionsRun(decided=decided, queued=queued))


HANDLERS = [("cmd", "run_conditions", on_run_conditions, ConditionsRun)]
