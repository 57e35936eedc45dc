"""Coverage: a county of 3,000 organizations, 60,000 members and 3,000 enterprises with two years of
history (founding, headcounts, instructors, 工青妇, closures, classification, rectification,
committees, transfers).

    .venv/bin/python bench/coverage.py [--scale 1.0] [--no-fsync]

Measured, with the real organizations service over NATS:
  * rebuild of all organization read-models (registry, coverage, campaigns) from sequence 1,
    one after another, into fresh tables: rebuild_events_per_s = events in the log / total seconds;
  * coverage as of a past date (folded from the log): as_of_s, median of 5 requests;
  * live coverage query (read-model): 300 requests, p50/p99 in ms.
Raw limit, same run, same stream: ordered push consumer with Pydantic decode of every event.
"""
from __future__ import annotations

import asyncio
import random
import statistics
import sys
import shutil
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import nats

from common import BENCH_META, BENCH_SIGNING_KEY, append_all, bench_signers, emit, peak_rss_mb, request, say
from rebuild import raw_read
from services.launcher import System
from services.organizations.campaigns.projections.campaigns import CampaignsProjection
from services.organizations.enterprises.projections.coverage import CoverageProjection
from services.organizations.registry.projections.registry import RegistryProjection
from services.organizations.enterprises.uscc import uscc_from_parts
from shared.catalog import campaigns as cp
from shared.catalog import enterprises as en
from shared.catalog import lifecycle as lc
from shared.catalog.organizations import CountyAdded, MemberRegistered, MemberTransferred, OrganizationEstablished, \
    TownshipAdded
from shared.envelope import seal, subject_for
from shared.eventstore import EventStore
from shared.natsserver import EmbeddedNats
from shared.settings import Settings

COUNTY = "450503"
START, END = date(2025, 1, 1), date(2026, 10, 31)
INDUSTRIES = ["制造业", "批发和零售业", "建筑业", "住宿和餐饮业", "信息传输、软件和信息技术服务业", "交通运输业"]


class Log:
    """Seals events per aggregate (hash chains) in the order they are produced."""

    def __init__(self, signer=None) -> None:
        self.items: list = []
        self.signer = signer  # the organizations key: signed as the service writes them
        self.last_hash: dict[str, str] = {}

    def add(self, aggregate_type: str, aggregate_id: str, event) -> None:
        subject = subject_for(COUNTY, "org", aggregate_type, aggregate_id)
        env = seal(COUNTY, aggregate_id, event, BENCH_META, self.last_hash.get(subject), signer=self.signer)
        self.last_hash[subject] = env["hash"]
        self.items.append((subject, env, None))


def day(rng: random.Random) -> date:
    return START + timedelta(days=rng.randint(0, (END - START).days))


def history(scale: float, seed: int = 5, signer=None) -> Log:
    rng, log = random.Random(seed), Log(signer)
    n_orgs, n_members, n_units = int(3000 * scale), int(60000 * scale), int(3000 * scale)
    log.add("county", COUNTY, CountyAdded(county_code=COUNTY, name="银海区"))
    towns = [f"t{i:02d}" for i in range(20)]
    for t in towns:
        log.add("township", t, TownshipAdded(township_id=t, name=f"第{t[1:]}镇"))
    orgs = [f"o{i:05d}" for i in range(n_orgs)]
    for i, o in enumerate(orgs):
        log.add("organization", o, OrganizationEstablished(
            organization_id=o, name=f"第{i}党支部", organization_type="branch",
            host_unit_type=rng.choice(["village", "community", "school", "government_organ"]),
            township_id=towns[i % 20], approved_by="县委组织部", approved_on=date(2018, 1, 1)))
    for i in range(n_members):
        m = f"m{i:06d}"
        log.add("member", m, MemberRegistered(member_id=m, name=f"党员{i}", gender=rng.choice(["male", "female"]),
                                              membership_status="full" if i % 10 else "probationary",
                                              joined_on=date(2000 + i % 20, 7, 1), branch_id=orgs[i % n_orgs]))
    for i in range(0, n_members, 20):  # 5% transferred
        m = f"m{i:06d}"
        log.add("member", m, MemberTransferred(member_id=m, from_branch_id=orgs[i % n_orgs],
                                               to_branch_id=orgs[(i + 7) % n_orgs], transferred_on=day(rng)))
    for o in orgs:
        elected = day(rng)
        log.add("organization", o, lc.CommitteeElected(
            organization_id=o, elected_on=elected, term_years=5, term_ends_on=elected.replace(year=elected.year + 5),
            committee=(lc.CommitteeSeat(role="secretary", name="黄海燕"),), secretary_only=True))
        for year in (2024, 2025):
            grade = rng.choice(["advanced", "average", "average", "lagging"])
            log.add("classification", o, cp.OrganizationClassified(
                organization_id=o, year=year, grade=grade, item_set="five_goods",
                items={"good_leadership": True}, note=None,
                programme={"advanced": "showcase", "average": "improve", "lagging": "remedy"}[grade],
                classified_on=date(year + 1, 1, 20)))
    for i, o in enumerate(orgs[:max(2, n_orgs // 50)]):  # a rectification campaign of ~60 organizations
        cid = f"2025.{o}"
        log.add("rectification", cid, cp.OrganizationFlaggedWeak(
            case_id=cid, organization_id=o, campaign="2025", reasons=("weak_service",), screened_on=date(2025, 2, 1),
            decided_on=date(2025, 3, 1)))
        log.add("rectification", cid, cp.RectificationPlanned(case_id=cid, plan="一村一策", measures=("包联",),
                                                              due_on=date(2025, 12, 31)))
        log.add("rectification", cid, cp.RectificationProgressReported(case_id=cid, reported_on=date(2025, 6, 1),
                                                                       summary="班子调整到位"))
        if i % 5:
            log.add("rectification", cid, cp.RectificationAcceptedByTownship(
                case_id=cid, accepted_on=date(2025, 11, 1), accepted_by="镇党委"))
            log.add("rectification", cid, cp.BranchRectified(case_id=cid, organization_id=o, accepted_on=date(2025, 12, 1),
                                                             accepted_by="县委组织部", follow_up_until=date(2026, 12, 1)))
    for i in range(n_units):
        e = f"e{i:05d}"
        employees = rng.choice([6, 12, 20, 35, 60, 120, 300])
        log.add("enterprise", e, en.EnterpriseRegistered(
            enterprise_id=e, uscc=uscc_from_parts("450503", f"{i:08d}"), name=f"企业{i}",
            unit_type="social_organization" if i % 8 == 0 else "private_enterprise", township_id=towns[i % 20],
            industry=INDUSTRIES[i % len(INDUSTRIES)], employees=employees, full_members=rng.randint(0, 8),
            probationary_members=0, operating_status="operating", fixed_premises=i % 13 != 0,
            above_scale=employees >= 100, registered_on=date(2024, 1, 1) + timedelta(days=i % 300)))
        for _ in range(4):
            log.add("enterprise", e, en.EnterpriseHeadcountUpdated(
                enterprise_id=e, employees=employees + rng.randint(0, 10), full_members=rng.randint(3, 9),
                probationary_members=1, effective_on=day(rng)))
        if i % 2 == 0:
            log.add("enterprise", e, en.EnterpriseBranchFounded(
                enterprise_id=e, organization_id=f"eo{i:05d}", founding_mode="standalone", covered_enterprise_ids=(e,),
                founded_on=day(rng), approved_by="非公工委", approved_on=date(2025, 1, 1)))
            log.add("enterprise", e, en.MassOrganizationEstablished(enterprise_id=e, kind="trade_union",
                                                                    established_on=day(rng)))
        elif i % 3 == 0:
            log.add("enterprise", e, en.InstructorAssigned(enterprise_id=e, person_name="刘建华", role="instructor",
                                                           assigned_on=day(rng)))
        if i % 15 == 1:
            log.add("enterprise", e, en.EnterpriseClosed(enterprise_id=e, status="suspended", closed_on=END,
                                                         reason="停产"))
    return log


async def main() -> None:
    import argparse

    ap = argparse.ArgumentParser(prog="bench/coverage.py")
    ap.add_argument("--scale", type=float, default=1.0, help="1.0 = 3,000 organizations, 60,000 members, "
                                                              "3,000 enterprises")
    ap.add_argument("--no-fsync", action="store_true")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-coverage-"))
    server = EmbeddedNats(tmp / "nats", sync_always=not args.no_fsync).start()
    system = None
    try:
        nc = await nats.connect(server.url)
        store = EventStore(nc)
        await store.add_county_stream(COUNTY)
        log = history(args.scale, signer=bench_signers(tmp / "data" / "credentials")["org"])
        n = len(log.items)
        say(f"writing {n} events of two years of history")
        last = await append_all(store, COUNTY, log.items)
        del log
        say(f"written, last seq {last}")
        raw_s = await raw_read(nc, COUNTY, n)
        raw_rate = n / raw_s
        say(f"raw ordered read + Pydantic decode: {raw_rate:,.0f} events/s")

        settings = Settings(nats_url=server.url, data_dir=tmp / "data", jwt_signing_key=BENCH_SIGNING_KEY)
        settings.keyring().ensure(signing=False)
        system = await System(settings).start(("organizations",))
        svc = system.service("organizations")
        for (name, county), runner in list(svc.runners.items()):
            await runner.wait_for(last, 600)
        say("live read-models caught up")

        started = time.perf_counter()
        per = {}
        for ptype in (RegistryProjection, CoverageProjection, CampaignsProjection):
            t0 = time.perf_counter()
            await svc.rebuild(COUNTY, ptype)
            per[ptype.name] = round(time.perf_counter() - t0, 2)
        rebuild_s = time.perf_counter() - started
        say(f"rebuilt all organization read-models in {rebuild_s:.1f} s {per}")

        as_of_times = []
        for _ in range(5):
            t0 = time.perf_counter()
            reply = await request(nc, COUNTY, "qry", "organizations", "coverage", {"as_of": "2025-12-31"})
            as_of_times.append(time.perf_counter() - t0)
            assert reply["ok"], reply
        county_row = next(r for r in reply["data"]["rows"] if r["dimension"] == "county")
        say(f"as of 2025-12-31: in scope {county_row['in_scope']}, organized {county_row['organized']}; "
            f"median {statistics.median(as_of_times):.3f} s")

        live = []
        for _ in range(300):
            t0 = time.perf_counter()
            reply = await request(nc, COUNTY, "qry", "organizations", "coverage", {})
            live.append((time.perf_counter() - t0) * 1000)
            assert reply["ok"], reply
        live.sort()
        p99 = live[int(len(live) * 0.99) - 1]
        say(f"live coverage: p50 {statistics.median(live):.1f} ms, p99 {p99:.1f} ms")
        rate = n / rebuild_s
        emit({"bench": "coverage", "events": n, "rebuild_s": round(rebuild_s, 2),
              "rebuild_events_per_s": round(rate), "rebuild_per_projection_s": per,
              "raw_events_per_s": round(raw_rate), "ratio": round(rate / raw_rate, 3),
              "as_of_s": round(statistics.median(as_of_times), 3), "live_p50_ms": round(statistics.median(live), 2),
              "live_p99_ms": round(p99, 2), "fsync": not args.no_fsync, "peak_rss_mb": peak_rss_mb()})
        await nc.close()
    finally:
        if system:
            await system.stop()
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)  # ~100 MB of stream and read-models per run


if __name__ == "__main__":
    asyncio.run(main())
