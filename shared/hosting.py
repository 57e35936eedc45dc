"""The projections one service instance hosts: per (projection, county) it either runs the runner — it
holds that lease in the JetStream KV bucket (shared/leases.py) — or stands by while another instance
runs it, and takes over when that lease is released or expires (docs/decisions/009-projection-leases.md).

Read-your-writes and rebuilds go through here too: a standby waits on the owner's committed checkpoint,
and forwards a rebuild to the owner, the only instance that may pause the live runner for the swap.
"""
from __future__ import annotations

import asyncio
import contextlib
import re
from typing import Any, TypeVar

import orjson
import structlog
from sqlalchemy import Engine, select

from shared.authenticity import Authenticator
from shared import jobs
from shared.db import ensure_checkpoint_table, projection_checkpoint
from shared.errors import DomainError
from shared.leases import Leases
from shared.messaging import encode, failed, ok, stop_task
from shared.progress import Progress
from shared.projection import Projection
from shared.projection_runner import ProjectionRunner
from shared.rebuild import rebuild_county
from shared.settings import Settings

log = structlog.get_logger(__name__)
BUILDS_AT_ONCE = 2  # a new schema version of a hundred counties: built a few at a time, not all at once
P = TypeVar("P", bound=Projection)


def lease_key(projection: str, county: str) -> str:
    return f"{projection}.{county}"


def rebuild_subject(instance: str) -> str:
    """Where one instance takes rebuilds forwarded by its standbys (only the owner may swap)."""
    return f"pb.platform.rebuild.{instance.split('-', 1)[0]}.{instance}"  # per service: see shared/natsconf.py


class ProjectionHost:
    def __init__(self, service: str, projection_types: list[type[Projection]]):
        self.service = service
        self.types = projection_types
        self.runners: dict[tuple[str, str], ProjectionRunner] = {}   # the projections this instance runs
        self.standby: dict[tuple[str, str], ProjectionRunner] = {}   # run by another instance (not started)
        self.building: dict[tuple[str, str], asyncio.Task] = {}      # a new schema version being built here
        self.rebuilding: dict[tuple[str, str], Progress] = {}        # rebuilds (and builds) running here
        self._builds = asyncio.Semaphore(BUILDS_AT_ONCE)
        self.leases: Leases | None = None
        self._instances: dict[type[Projection], Projection] = {}
        self._county_lock = asyncio.Lock()
        self._task: asyncio.Task | None = None
        self.nc = self.engine = self.settings = self.authenticator = self.jobs = None

    async def open(self, nc: Any, engine: Engine, settings: Settings, instance: str) -> None:
        self.nc, self.engine, self.settings = nc, engine, settings
        self.authenticator = Authenticator(nc.jetstream(), path=settings.credentials_path)  # follows rotations
        self.jobs = jobs.JobRegistry(nc.jetstream())
        self.leases = Leases(nc.jetstream(), instance, settings.lease_ttl_s, settings.stream_replicas,
                             provisioned_within_s=60)  # created by the provisioner (shared/provisioning.py)
        await self.leases.open()
        await nc.subscribe(rebuild_subject(instance), cb=self._on_forwarded_rebuild)

    def keep_leases(self) -> None:
        self._task = asyncio.create_task(self._keep_leases(), name=f"leases:{self.service}")

    async def close(self) -> None:
        if self._task:
            await stop_task(self._task)
        for (name, county), runner in list(self.runners.items()):
            await runner.stop()
            if self.leases:
                await self.leases.release(self._lease((name, county)))  # a standby takes over at once
        for task in self.building.values():
            task.cancel()

    def projection(self, ptype: type[P]) -> P:
        """The live instance of a projection type (shared by all counties' runners)."""
        if ptype not in self._instances:
            self._instances[ptype] = ptype()
        return self._instances[ptype]

    async def attach_county(self, county: str) -> None:
        """Run each of this service's projections for the county here, unless another instance
        holds its lease (then it waits here as a standby)."""
        async with self._county_lock:
            for ptype in self.types:
                key = (ptype.name, county)
                if key not in self.runners and key not in self.standby:
                    await self._take_or_wait(key, ProjectionRunner(
                        self.nc, self.engine, self.projection(ptype), county, authenticator=self.authenticator))

    def _lease(self, key: tuple[str, str]) -> str:
        """Per schema version: instances of the old code keep their version while the new one is built."""
        ptype = next(t for t in self.types if t.name == key[0])
        return lease_key(ptype.versioned_name(), key[1])

    async def _take_or_wait(self, key: tuple[str, str], runner: ProjectionRunner) -> None:
        if key in self.building:
            return
        if self.settings.run_projections and await self.leases.hold(self._lease(key)):
            self.standby.pop(key, None)
            if await asyncio.to_thread(needs_schema_build, self.engine, runner.projection, key[1]):
                self.building[key] = asyncio.create_task(self._build_version(key, runner.projection),
                                                         name=f"schema-build:{key[0]}:{key[1]}")
                return
            await self._run(key, runner.projection)
        else:
            self.standby[key] = runner

    async def _run(self, key: tuple[str, str], projection: Projection) -> None:
        runner = ProjectionRunner(self.nc, self.engine, projection, key[1],  # no state of a past run
                                  authenticator=self.authenticator)
        await runner.start()
        self.runners[key] = runner
        log.info("projection.owned", service=self.service, projection=key[0], county=key[1])

    async def _build_version(self, key: tuple[str, str], projection: Projection) -> None:
        """The county had an older schema version: build this one from the log beside it (blue/green:
        rebuild into fresh tables, then swap into this version's tables), then run it live."""
        log.info("projection.schema_build", service=self.service, projection=key[0], county=key[1],
                 version=projection.schema_version)
        try:
            async with self._builds:
                built = await rebuild_county(self.nc, self.engine, type(projection), key[1],
                                             progress=self.rebuilding.setdefault(key, Progress()),
                                             authenticator=self.authenticator)
            async with self._county_lock:
                await self._run(key, projection)
            log.info("projection.schema_built", service=self.service, projection=key[0], county=key[1],
                     events=built["events"], seconds=built["seconds"])
        except Exception:  # e.g. a poison event: released, so this or another instance tries again
            log.exception("projection.schema_build_failed", service=self.service, projection=key[0], county=key[1])
            await self.leases.release(self._lease(key))
        finally:
            self.building.pop(key, None)
            self.rebuilding.pop(key, None)

    async def _keep_leases(self) -> None:
        """Renew what we run (stop what we lost), take over what nobody renews any more."""
        while True:
            await asyncio.sleep(self.settings.lease_ttl_s / 3)
            try:
                async with self._county_lock:
                    # renewed all at once: one after the other, a hundred counties' leases on a loaded
                    # machine took longer than their TTL, and were lost while being renewed
                    owned = [*self.runners.items(), *((key, None) for key in self.building)]
                    renewed = await asyncio.gather(*(self.leases.hold(self._lease(key)) for key, _ in owned),
                                                   return_exceptions=True)
                    for (key, runner), held in zip(owned, renewed):
                        if isinstance(held, Exception):  # NATS briefly unavailable: the next round renews it
                            log.warning("projection.lease_renewal_failed", service=self.service, projection=key[0],
                                        county=key[1], error=str(held) or type(held).__name__)
                        elif not held and runner is None:  # lost while building: another instance builds
                            self.building.pop(key).cancel()
                        elif not held:
                            log.warning("projection.lease_lost", service=self.service, projection=key[0], county=key[1])
                            await runner.stop()
                            del self.runners[key]
                            self.standby[key] = runner
                    for key, runner in list(self.standby.items()):
                        await self._take_or_wait(key, runner)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # NATS briefly unavailable: try again next round
                log.warning("projection.lease_round_failed", service=self.service, error=str(exc))

    async def caught_up(self, county: str, seq: int | None, projection: str | None = None) -> None:
        """Read-your-writes: wait (bounded) until this county's projections reached `seq`. While a new
        schema version of one is being built, its tables are not the county's yet: 503, retry."""
        await self._not_building(county, projection)
        if not seq:
            return
        await self.attach_county(county)  # waits for an attach in progress (a county added a moment ago)
        timeout = self.settings.read_your_writes_timeout_s if self.settings else 5.0
        for (name, c), runner in [*self.runners.items(), *self.standby.items()]:
            if c == county and (projection is None or name == projection):
                reached = await (runner.wait_for(seq, timeout) if (name, c) in self.runners
                                 else runner.wait_for_elsewhere(seq, timeout))
                if not reached:
                    raise DomainError("read_model_lagging",
                                      f"读模型尚未更新到 {seq}，请稍后重试 / read-model has not reached sequence {seq} yet", 503)

    async def rebuild(self, county: str, ptype: type[Projection]) -> dict:
        if (ptype.name, county) in self.standby:  # the owner rebuilds: it pauses its live runner for the swap
            return await self._forward_rebuild(county, ptype)
        live, key = self.runners.get((ptype.name, county)), (ptype.name, county)
        if key in self.rebuilding:
            raise DomainError("rebuild_running", f"{ptype.name} of {county} is being rebuilt already", 409)
        self.rebuilding[key] = progress = Progress(listener=jobs.listener())  # and to its job, if one
        try:
            return await rebuild_county(self.nc, self.engine, ptype, county, live=live, progress=progress,
                                        authenticator=self.authenticator)
        finally:
            self.rebuilding.pop(key, None)

    async def _forward_rebuild(self, county: str, ptype: type[Projection]) -> dict:
        holder = await self.leases.holder_of(lease_key(ptype.versioned_name(), county))
        if holder is None:
            raise DomainError("projection_unowned", f"{ptype.name} of {county} has no running instance right now; "
                              "try again in a few seconds", 503)
        forwarded = {"county": county, "projection": ptype.name, "job": jobs.current_ref()}  # the owner reports to it
        msg = await self.nc.request(rebuild_subject(holder), orjson.dumps(forwarded),
                                    timeout=3600)
        reply = orjson.loads(msg.data)
        if not reply.get("ok"):
            raise DomainError.from_dict(reply["error"])
        return reply["data"]

    async def _on_forwarded_rebuild(self, msg) -> None:
        body = orjson.loads(msg.data)
        ptype = next((p for p in self.types if p.name == body.get("projection")), None)
        job = jobs.attach(self.jobs, body.get("job"))  # the rebuild's progress goes to the requester's job
        try:
            if ptype is None or (ptype.name, body.get("county")) not in self.runners:
                raise DomainError("projection_runs_elsewhere", "this instance no longer runs that projection", 409)
            reply = ok(await self.rebuild(body["county"], ptype))
        except DomainError as exc:
            reply = failed(exc)
        except Exception as exc:  # reported to the forwarding instance, which answers the client
            log.exception("rebuild.failed", service=self.service, county=body.get("county"))
            reply = failed(DomainError("rebuild_failed", f"重建失败 / rebuild failed: {exc}", 500))
        finally:
            jobs.detach(job)  # the subscription's task answers the next forwarded rebuild too
        await msg.respond(encode(reply))

    async def _not_building(self, county: str, projection: str | None) -> None:
        wanted = [(key, runner) for key, runner in [*((k, None) for k in self.building), *self.standby.items()]
                  if key[1] == county and (projection is None or key[0] == projection)]
        for key, runner in wanted:
            # here, or (a standby) in the owner: a new version's checkpoint is written by its swap
            if runner is None or (runner.projection.schema_version > 1 and not await runner.persisted_checkpoint()):
                raise DomainError("read_model_rebuilding", "读模型正在按新结构重建，请稍后重试 / the read-model "
                                  f"{key[0]} is being rebuilt for its new schema; retry shortly", 503)

    async def health(self) -> list[dict[str, Any]]:
        """Each (projection, county): its checkpoint and lag, active here or standing by."""
        projections = []
        for (name, county), runner in list(self.runners.items()):
            lag = None
            if runner.error is None:
                with contextlib.suppress(Exception):
                    lag = await runner.pending()
            projections.append({**runner.status(lag), "role": "active"})
        projections += [{"projection": name, "county": county, "role": "building"} for name, county in self.building]
        for p in projections:  # a rebuild's (or build's) progress on the projection it concerns
            key = (re.sub(r"\.v\d+$", "", p["projection"]), p["county"])  # a runner shows its versioned name
            if key in self.rebuilding:
                p["rebuild"] = self.rebuilding[key].figures()
        for (name, county), runner in list(self.standby.items()):
            # the versioned name, as the owner shows it: one (projection, county) is one row of roles
            status = {"projection": runner.projection.checkpoint_name, "county": county, "role": "standby"}
            with contextlib.suppress(Exception):
                status["lag"] = await runner.pending()
                status["checkpoint"] = await runner.persisted_checkpoint()
            projections.append(status)
        return projections


def needs_schema_build(engine: Engine, projection: Projection, county: str) -> bool:
    """The county has a checkpoint of an older schema version of the projection and none of this one."""
    if projection.schema_version == 1:
        return False
    names = [projection.versioned_name(v) for v in range(1, projection.schema_version + 1)]
    ensure_checkpoint_table(engine)  # a fresh database: no projection has run yet
    with engine.connect() as conn:
        found = set(conn.execute(select(projection_checkpoint.c.projection).where(
            projection_checkpoint.c.county == county, projection_checkpoint.c.projection.in_(names))).scalars())
    return bool(found) and projection.versioned_name() not in found
