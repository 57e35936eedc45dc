"""Cluster: the ingest benchmark (bench/ingest.py) against a three-node NATS cluster with R3 county streams,
beside the same against one embedded server, in the same run.

    .venv/bin/python bench/cluster.py [--n 20000] [--no-fsync] [--concurrency 512] [--members 5000]

Both servers fsync every write (`sync_interval: always`, as deploy/nats.conf) unless --no-fsync. The
services run in a process of their own (`dangjian start --only ...`) with DANGJIAN_NATS_URL naming every
node and DANGJIAN_STREAM_REPLICAS = 1 or 3. Measured: N record_score requests, `--concurrency` in flight.
Raw figure of each setup, same run: pipelined acked JetStream publishes of the same payload into a
stream configured like the county's (R3 in the cluster). The three nodes share this machine's cores and
disk with the services: the figures are ratios, not a capacity plan.
"""
from __future__ import annotations

import asyncio
import os
import tempfile
import time
from pathlib import Path

import nats

from common import (ServicesProcess, append_all, arguments, bench_signers, command, emit, member_envelopes, say,
                    setup_organizations)
from ingest import raw_publish, record_scores, sample_envelope
from shared.auth import Actor
from shared.natsserver import EmbeddedNats, free_port

COUNTY, BRANCHES, YEAR = "450503", 50, 2026


def cluster_nodes(root: Path, fsync: bool) -> list[EmbeddedNats]:
    routes = [free_port() for _ in range(3)]
    return [EmbeddedNats(root / f"nats-{i + 1}", sync_always=fsync,
                         cluster={"name": "dangjian", "server_name": f"nats-{i + 1}", "port": routes[i],
                                  "routes": routes})
            for i in range(3)]


async def jetstream_ready(nc, timeout: float = 60) -> None:
    """A cluster answers JetStream requests once its nodes elected a meta leader."""
    started = time.perf_counter()
    while True:
        try:
            await nc.jetstream().account_info()
            return
        except Exception:
            if time.perf_counter() - started > timeout:
                raise
            await asyncio.sleep(0.2)


async def ingest(servers: list[EmbeddedNats], replicas: int, data_dir: Path, args) -> dict:
    urls = [s.url for s in servers]
    nc = await nats.connect(urls, name="bench-cluster")
    services = None
    try:
        await jetstream_ready(nc)
        services = ServicesProcess(",".join(urls), data_dir, env={"DANGJIAN_STREAM_REPLICAS": str(replicas)})
        await services.ready(nc)
        c = await setup_organizations(nc, COUNTY, BRANCHES)
        from shared.eventstore import EventStore

        signer = bench_signers(data_dir / "credentials")["org"]  # signed with the services' own writer key
        await append_all(EventStore(nc), COUNTY, member_envelopes(c, args.members, signer=signer))
        await command(nc, COUNTY, "ratings", "define_scheme", {"year": YEAR, "name": "2026年党员星级管理",
                                                              "preset": "532"})
        await services.caught_up(nc, COUNTY)
        info = await nc.jetstream().stream_info(f"PB_{COUNTY}")
        assert info.config.num_replicas == replicas, info.config
        payload = sample_envelope(COUNTY, c.members[0])
        raw_s, raw_failures = await raw_publish(nc, COUNTY, c.members, args.n, payload)
        say(f"  raw: {args.n / raw_s:,.0f} acked publishes/s ({raw_failures} failures)")
        actor = Actor(sub="bench-admin", role="county_admin", county=COUNTY)
        seconds, failures, first_failure, _ = await record_scores(nc, c, args.n, args.concurrency, actor)
        say(f"  scores: {args.n / seconds:,.0f}/s ({seconds:.1f}s, {failures} failures)" +
            (f"; first failure {first_failure}" if first_failure else ""))
        return {"scores_per_s": round(args.n / seconds), "raw_events_per_s": round(args.n / raw_s),
                "failures": failures, "raw_failures": raw_failures, "seconds": round(seconds, 2),
                "payload_bytes": len(payload)}
    finally:
        await nc.close()
        if services:
            services.stop()


async def main() -> None:
    args = arguments("cluster", 20_000, extra=[
        (("--concurrency",), dict(type=int, default=512, help="record_score requests in flight (default 512)")),
        (("--members",), dict(type=int, default=5_000, help="members the scores are spread over (default 5000)")),
    ])
    fsync = not args.no_fsync
    figures: dict = {}
    with tempfile.TemporaryDirectory(prefix="bench-cluster-") as tmp:
        root = Path(tmp)
        single = EmbeddedNats(root / "single", sync_always=fsync).start()
        try:
            say(f"single server {single.url}, fsync every write: {fsync}")
            figures["single"] = await ingest([single], 1, root / "single-data", args)
        finally:
            single.stop()
        nodes = cluster_nodes(root, fsync)
        try:
            for node in nodes:
                node.start()
            say(f"cluster {', '.join(n.url for n in nodes)}, R3 streams, fsync every write: {fsync}")
            figures["cluster"] = await ingest(nodes, 3, root / "cluster-data", args)
        finally:
            for node in nodes:
                node.stop()
    one, three = figures["single"], figures["cluster"]
    emit({"bench": "cluster", "n": args.n, "members": args.members, "concurrency": args.concurrency, "fsync": fsync,
          "cluster_scores_per_s": three["scores_per_s"], "single_scores_per_s": one["scores_per_s"],
          "ratio": round(three["scores_per_s"] / one["scores_per_s"], 3),
          "cluster_raw_events_per_s": three["raw_events_per_s"], "single_raw_events_per_s": one["raw_events_per_s"],
          "raw_ratio": round(three["raw_events_per_s"] / one["raw_events_per_s"], 3),
          "cluster_ratio_to_raw": round(three["scores_per_s"] / three["raw_events_per_s"], 3),
          "single_ratio_to_raw": round(one["scores_per_s"] / one["raw_events_per_s"], 3),
          "failures": one["failures"] + three["failures"], "load_avg_1m": round(os.getloadavg()[0], 2),
          "single": one, "cluster": three})


if __name__ == "__main__":
    asyncio.run(main())
