"""党群服务中心 coverage as of a date: a county of 1,900 organizations (176 villages, 43 communities among
them, the DESIGN's average county) in 20 townships, with 1 county, 20 township and 219 village and
community centres, each inspected twice, and a yearly upgrade plan for a third of them.

    .venv/bin/python bench/centres.py [--scale 1.0] [--no-fsync]

Measured, with the real organizations service over NATS:
  * centre coverage as of a past date (folded from the log every time: the centres', townships' and
    organizations' events): as_of_s, median of 5 requests, and the events it folds per second;
  * the live registry list: 100 requests, p50 in ms.
Raw limit, same run, same stream: ordered push consumer with Pydantic decode of every event; the ratio is
the as-of fold's events per second over the raw read's.
"""
from __future__ import annotations

import asyncio
import shutil
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

import nats

from common import BENCH_SIGNING_KEY, append_all, emit, peak_rss_mb, request, say
from coverage import COUNTY, Log
from rebuild import raw_read
from services.launcher import System
from services.organizations.centres.standards import BASELINE_STANDARDS, evaluate
from shared.catalog import centres as ce
from shared.catalog.organizations import CountyAdded, OrganizationEstablished, TownshipAdded
from shared.eventstore import EventStore
from shared.natsserver import EmbeddedNats
from shared.settings import Settings

ZONES = ("daily_office", "integrated_services", "activities", "education")
WINDOWS = ("member_services", "integrated_business", "proxy_services", "consultation_complaints")


def history(scale: float) -> tuple[Log, int]:
    """The county's log and how many of its events a coverage fold reads (centres, townships, organizations)."""
    log = Log()
    log.add("county", COUNTY, CountyAdded(county_code=COUNTY, name="银海区"))
    towns = [f"t{i:02d}" for i in range(20)]
    for t in towns:
        log.add("township", t, TownshipAdded(township_id=t, name=f"第{t[1:]}镇"))
    n_orgs, places = int(1900 * scale), int(219 * scale)
    for i in range(n_orgs):
        host = "village" if i < int(176 * scale) else "community" if i < places else "government_organ"
        log.add("organization", f"o{i:05d}", OrganizationEstablished(
            organization_id=f"o{i:05d}", name=f"第{i}党支部", organization_type="branch", host_unit_type=host,
            township_id=towns[i % 20], approved_by="县委组织部", approved_on=date(2018, 1, 1)))
    centres = [("county", None, None)] + [("township", t, None) for t in towns] + [
        ("village" if i < int(176 * scale) else "community", towns[i % 20], f"o{i:05d}") for i in range(places)]
    for n, (level, township, org) in enumerate(centres):
        cid = f"c{n:04d}"
        area = 150 if n % 50 == 7 else 1200  # one in fifty too small
        registered = ce.CentreRegistered(centre_id=cid, name=f"第{n}党群服务中心", kind="centre", level=level,
                                         township_id=township, organization_id=org, floor_area_m2=area, zones=ZONES,
                                         windows=WINDOWS, signage=True, night_visible=True, opened_on=date(2024, 3, 1))
        log.add("centre", cid, registered)
        for on in (date(2024, 6, 1), date(2025, 6, 1)):
            met, missing = evaluate(BASELINE_STANDARDS.for_level(level), registered, ["rules_displayed"])
            log.add("centre", cid, ce.CentreInspected(centre_id=cid, inspected_on=on, inspected_by="县委组织部",
                                                      standards_from=date(2000, 1, 1), met=met, missing=missing,
                                                      passed=not missing))
        if n % 3 == 0:
            log.add("centre", cid, ce.CentreUpgradePlanned(centre_id=cid, year=2025, kind="optimize", items=("亮化",),
                                                           due_on=date(2025, 10, 1), planned_on=date(2025, 2, 1)))
            log.add("centre", cid, ce.CentreUpgradeProgressed(centre_id=cid, year=2025, percent=100, note="完成",
                                                              reported_on=date(2025, 9, 1)))
    return log, len(log.items) - 1


async def main() -> None:
    import argparse

    ap = argparse.ArgumentParser(prog="bench/centres.py")
    ap.add_argument("--scale", type=float, default=1.0, help="1.0 = 1,900 organizations, 240 centres")
    ap.add_argument("--no-fsync", action="store_true")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-centres-"))
    server = EmbeddedNats(tmp / "nats", sync_always=not args.no_fsync).start()
    system = None
    try:
        nc = await nats.connect(server.url)
        store = EventStore(nc)
        await store.add_county_stream(COUNTY)
        log, folded = history(args.scale)
        n = len(log.items)
        last = await append_all(store, COUNTY, log.items)
        say(f"written {n} events, last seq {last}")
        raw_rate = n / await raw_read(nc, COUNTY, n)
        say(f"raw ordered read + Pydantic decode: {raw_rate:,.0f} events/s")

        settings = Settings(nats_url=server.url, data_dir=tmp / "data", jwt_signing_key=BENCH_SIGNING_KEY)
        settings.keyring().ensure(signing=False)
        system = await System(settings).start(("organizations",))
        for runner in list(system.service("organizations").runners.values()):
            await runner.wait_for(last, 600)
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            reply = await request(nc, COUNTY, "qry", "organizations", "centre_coverage", {"as_of": "2025-12-31"})
            times.append(time.perf_counter() - t0)
            assert reply["ok"], reply
        total = reply["data"]["total"]
        as_of_s = statistics.median(times)
        say(f"as of 2025-12-31: {total['to_standard']}/{total['centres']} to standard, coverage "
            f"{total['coverage_rate']}; median {as_of_s:.3f} s")
        lists = []
        for _ in range(100):
            t0 = time.perf_counter()
            assert (await request(nc, COUNTY, "qry", "organizations", "list_centres", {}))["ok"]
            lists.append((time.perf_counter() - t0) * 1000)
        fold_rate = folded / as_of_s
        emit({"bench": "centres", "events": n, "folded_per_request": folded, "as_of_s": round(as_of_s, 3),
              "as_of_events_per_s": round(fold_rate), "raw_events_per_s": round(raw_rate),
              "ratio": round(fold_rate / raw_rate, 3), "list_p50_ms": round(statistics.median(lists), 2),
              "fsync": not args.no_fsync, "peak_rss_mb": peak_rss_mb()})
        await nc.close()
    finally:
        if system:
            await system.stop()
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
