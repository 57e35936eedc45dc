"""Shared pieces of the benchmarks: servers in a temp dir, a county set up quickly, RSS, progress lines.

Every benchmark prints progress lines and, as its LAST line, one JSON object with its figures."""
from __future__ import annotations

import argparse
import asyncio
import logging
import random
import resource
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

import orjson
import psutil
import structlog

from shared.auth import Actor, issue_token
from shared.credentials import new_signing_key_pem
from shared.catalog.organizations import MemberRegistered, OrganizationEstablished
from shared.envelope import Metadata, seal, subject_for
from shared.eventstore import ATOMIC_MAX, EventStore

# service log lines go to stderr and only from WARNING up: stdout is for the benchmark's own lines
structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
                    logger_factory=structlog.PrintLoggerFactory(sys.stderr))

PLATFORM = Actor(sub="bench-platform", role="platform_admin")
BENCH_SIGNING_KEY = new_signing_key_pem()  # services started by a benchmark verify tokens with its public half
_tokens: dict[Actor, str] = {}


def bench_token(actor: Actor) -> str:
    if actor not in _tokens:
        _tokens[actor] = issue_token(BENCH_SIGNING_KEY, actor)
    return _tokens[actor]
BENCH_META = Metadata(actor="platform_admin:bench")
_t0 = time.perf_counter()


def say(text: str) -> None:
    print(f"[{time.perf_counter() - _t0:7.1f}s] {text}", flush=True)


def emit(figures: dict) -> None:
    """The last line of every benchmark."""
    print(orjson.dumps(figures).decode(), flush=True)


def arguments(name: str, default_n: int, extra: list[tuple[tuple, dict]] = ()) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog=f"bench/{name}.py")
    ap.add_argument("--n", type=int, default=default_n, help=f"number of events/commands (default {default_n})")
    ap.add_argument("--no-fsync", action="store_true", help="nats-server without sync_interval: always")
    for flags, options in extra:
        ap.add_argument(*flags, **options)
    return ap.parse_args()


def peak_rss_mb() -> float:
    """Peak resident set of this process since it started (Linux ru_maxrss is in KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def reset_peak_rss() -> bool:
    """Linux: restart this process's peak resident set (VmHWM) from its current size, so a phase's own
    peak can be read afterwards with `phase_peak_rss_mb` (False where /proc does not allow it)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def phase_peak_rss_mb() -> float | None:
    """Peak resident set since the last `reset_peak_rss` (VmHWM), or None where /proc has none."""
    try:
        with open("/proc/self/status") as f:
            line = next(line for line in f if line.startswith("VmHWM:"))
        return round(int(line.split()[1]) / 1024, 1)
    except (OSError, StopIteration):
        return None


def rss_mb(pid: int | None = None) -> float:
    return round(psutil.Process(pid).memory_info().rss / 2**20, 1)


class CpuMeter:
    """CPU seconds used between start and stop: this process's event-loop thread, its other threads
    (projection runners, thread-pool lookups), and the nats-server."""

    def __init__(self, server_pid: int, **processes: int):
        self.me, self.server = psutil.Process(), psutil.Process(server_pid)
        self.processes = {name: psutil.Process(pid) for name, pid in processes.items()}

    def _now(self) -> tuple[float, ...]:
        main = next(t for t in self.me.threads() if t.id == self.me.pid)
        total, srv = self.me.cpu_times(), self.server.cpu_times()
        main_s = main.user_time + main.system_time
        others = tuple(t.user + t.system for t in (p.cpu_times() for p in self.processes.values()))
        return main_s, total.user + total.system - main_s, srv.user + srv.system, *others

    def start(self) -> "CpuMeter":
        self.t0, self.c0 = time.perf_counter(), self._now()
        return self

    def stop(self) -> dict[str, float]:
        wall, c1 = time.perf_counter() - self.t0, self._now()
        main, threads, server, *others = (round(b - a, 2) for a, b in zip(self.c0, c1))
        return {"wall_s": round(wall, 2), "loop_thread_cpu_s": main, "other_threads_cpu_s": threads,
                "nats_server_cpu_s": server, **{f"{name}_cpu_s": v for name, v in zip(self.processes, others)}}


async def request(nc, county: str, kind: str, service: str, name: str, data: dict,
                  actor: Actor = PLATFORM, min_seq: int | None = None, timeout: float = 60) -> dict:
    """A command or query exactly as the gateway sends it (NATS request/reply)."""
    body = {"token": bench_token(actor), "data": data, "min_seq": min_seq}
    msg = await nc.request(f"pb.{county}.{kind}.{service}.{name}", orjson.dumps(body, default=str), timeout=timeout)
    return orjson.loads(msg.data)


async def command(nc, county: str, service: str, name: str, data: dict, **kw) -> dict:
    for attempt in range(5):  # a 503 (the log did not answer in time: a loaded machine) is retried, as a client would
        reply = await request(nc, county, "cmd", service, name, data, **kw)
        if (reply.get("error") or {}).get("status") != 503:
            break
        await asyncio.sleep(1 + attempt)
    if not reply.get("ok"):
        raise RuntimeError(f"{service}.{name} failed: {reply}")
    return reply


@dataclass
class County:
    code: str
    township: str = ""
    branches: list[str] = field(default_factory=list)
    members: list[str] = field(default_factory=list)
    seq: int = 0


async def setup_organizations(nc, county: str, branches: int) -> County:
    """County, one township and its branches through the real organizations commands (a few dozen)."""
    c = County(county)
    await command(nc, county, "organizations", "add_county", {"county_code": county, "name": "银海区"})
    c.township = (await command(nc, county, "organizations", "add_township", {"name": "侨港镇"}))["data"]["township_id"]
    for b in range(branches):
        r = await command(nc, county, "organizations", "establish_organization", {
            "name": f"侨港镇第{b + 1}村党支部", "organization_type": "branch", "host_unit_type": "village",
            "township_id": c.township, "approved_by": "中共侨港镇委员会", "approved_on": "2020-03-01"})
        c.branches.append(r["data"]["organization_id"])
        c.seq = r["seq"]
    return c


def bench_signers(directory) -> dict[str, "Signer"]:
    """The writers' event keys in a benchmark's credentials dir (generated when missing): events sealed
    by a benchmark are signed as the services sign them (docs/decisions/016-audit-log.md)."""
    from pathlib import Path

    from shared.signing import Signer, ensure_writer_keys
    Path(directory).mkdir(parents=True, exist_ok=True, mode=0o700)
    ensure_writer_keys(Path(directory), ("organizations", "ratings"))
    return {"org": Signer.load(directory, "organizations"), "ratings": Signer.load(directory, "ratings")}


def organization_envelopes(c: County, branches: int, signer=None) -> list[tuple[str, dict, int | None]]:
    """OrganizationEstablished events sealed directly (for benchmarks without services)."""
    from shared.ids import new_id

    c.township = c.township or new_id()
    items = []
    for b in range(branches):
        org_id = new_id()
        ev = OrganizationEstablished(organization_id=org_id, name=f"侨港镇第{b + 1}村党支部", organization_type="branch",
                                     host_unit_type="village", township_id=c.township,
                                     approved_by="中共侨港镇委员会", approved_on=date(2020, 3, 1))
        items.append((subject_for(c.code, "org", "organization", org_id), seal(c.code, org_id, ev, BENCH_META, None,
                                                                                         signer=signer), 0))
        c.branches.append(org_id)
    return items


def member_envelopes(c: County, n: int, seed: int = 7, signer=None) -> Iterable[tuple[str, dict, int | None]]:
    """n MemberRegistered events over the county's branches, sealed as the organizations service would."""
    from shared.ids import new_id

    rnd = random.Random(seed)
    for i in range(n):
        member_id = new_id()
        ev = MemberRegistered(member_id=member_id, name=f"张秀玲{i}", gender=rnd.choice(("male", "female")),
                              birth_date=date(1960 + i % 40, 1 + i % 12, 1 + i % 28), membership_status="full",
                              joined_on=date(2005, 7, 1), branch_id=c.branches[i % len(c.branches)])
        c.members.append(member_id)
        yield subject_for(c.code, "org", "member", member_id), seal(c.code, member_id, ev, BENCH_META, None,
                                                                                   signer=signer), 0


async def append_all(store: EventStore, county: str, items: Iterable[tuple[str, dict, int | None]],
                     in_flight: int = 4, on_batch=None) -> int:
    """Append events in atomic batches of 1,000 (a few batches in flight); returns the last sequence."""
    last = 0
    pending: set[asyncio.Task] = set()

    async def one(batch):
        nonlocal last
        appended = await store.append_atomic(county, batch)
        last = max(last, appended[-1].seq)
        if on_batch:
            on_batch(len(batch))

    batch: list = []
    for item in items:
        batch.append(item)
        if len(batch) == ATOMIC_MAX:
            if len(pending) >= in_flight:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for t in done:
                    t.result()
            pending.add(asyncio.create_task(one(batch)))
            batch = []
    if batch:
        pending.add(asyncio.create_task(one(batch)))
    for t in pending:
        await t
    return last


async def wait_caught_up(system, county: str, seq: int, timeout: float = 300) -> float:
    """Wait until every projection of every service has applied `seq` in this county; returns seconds."""
    started = time.perf_counter()
    while not any(c == county for s in system.services for (_, c) in s.runners):
        if time.perf_counter() - started > 30:
            raise TimeoutError(f"no projection runner attached county {county}")
        await asyncio.sleep(0.05)
    for svc in system.services:
        for (name, c), runner in svc.runners.items():
            if c != county:
                continue
            left = timeout - (time.perf_counter() - started)
            if not await runner.wait_for(seq, max(left, 0.1)) or runner.error:
                raise RuntimeError(f"{svc.name}/{name} stuck at {runner.checkpoint} < {seq} (error {runner.error})")
    return time.perf_counter() - started


class ServicesProcess:
    """The services as deployed: `dangjian start --only ...` in a process of its own, on the bench's
    nats-server, so the benchmark client does not share a GIL with the code it measures."""

    def __init__(self, nats_url: str, data_dir, names: tuple[str, ...] = ("organizations", "ratings", "notifications"),
                 env: dict[str, str] | None = None):
        import os
        import subprocess
        from pathlib import Path

        from shared.credentials import Keyring

        self.names = names
        Keyring(Path(data_dir) / "credentials").ensure(signing=False)  # the benchmark's server is open; seeds anyway
        dangjian = Path(sys.executable).parent / "dangjian"
        self.proc = subprocess.Popen(
            [str(dangjian), "start", "--only", ",".join((*names, "provisioner") if "organizations" in names else names)],
            env={**os.environ, "DANGJIAN_NATS_URL": nats_url, "DANGJIAN_DATA_DIR": str(data_dir),
                 "DANGJIAN_JWT_SIGNING_KEY": BENCH_SIGNING_KEY, "DANGJIAN_LOG_LEVEL": "WARNING", **(env or {})},
            stdout=subprocess.DEVNULL)

    @property
    def pid(self) -> int:
        return self.proc.pid

    async def health(self, nc) -> dict[str, dict]:
        from shared.messaging import health_subject

        out = {}
        for name in self.names:
            out[name] = orjson.loads((await nc.request(health_subject(name), b"", timeout=10)).data)
        return out

    async def ready(self, nc, timeout: float = 60) -> None:
        started = time.perf_counter()
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"services exited with {self.proc.returncode}")
            try:
                await self.health(nc)
                return
            except Exception:
                if time.perf_counter() - started > timeout:
                    raise
                await asyncio.sleep(0.1)

    async def caught_up(self, nc, county: str, timeout: float = 300) -> float:
        """Wait until every projection of the county reports no lag (events stored before this call
        are then applied: acks follow commits); returns seconds."""
        import nats

        started = time.perf_counter()
        while True:
            try:
                healths = await self.health(nc)
            except nats.errors.TimeoutError:  # busy folding (verifying signed events) on a loaded machine: ask again
                if time.perf_counter() - started > timeout:
                    raise
                continue
            projections = [p for h in healths.values() for p in h["projections"] if p["county"] == county]
            errors = [p for p in projections if "error" in p]
            if errors:
                raise RuntimeError(f"projection stopped: {errors}")
            if projections and all(p.get("lag") == 0 for p in projections):
                return time.perf_counter() - started
            if time.perf_counter() - started > timeout:
                raise TimeoutError(f"projections of {county} not caught up: {projections}")
            await asyncio.sleep(0.05)

    def stop(self) -> None:
        import subprocess

        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
