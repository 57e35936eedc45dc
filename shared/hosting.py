"""The projections one service instance hosts: per (projection, county) it either runs the runner — it
holds that lease in the JetStream KV bucket (shared/leases.py) — or stands by while another instance
runs it, and takes over when that lease is released or expires (docs/decisions/009-projection-leases.md).

Read-your-writes and rebuilds go through here too: a standby waits on the owner's committed checkpoint,
and forwards a rebuild to the owner, the only instance that may pause the live runner for the swap.
"""
from __future__ import annotations

import asyncio
import contextlib
from typing import Any, TypeVar

import orjson
import structlog
from sqlalchemy import Engine

from shared.errors import DomainError
from shared.leases import Leases
from shared.messaging import encode, failed, ok, stop_task
from shared.projection import Projection
from shared.projection_runner import ProjectionRunner
from shared.rebuild import rebuild_county
from shared.settings import Settings

log = structlog.get_logger(__name__)
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
        self.leases: Leases | None = None
        self._instances: dict[type[Projection], Projection] = {}
        self._county_lock = asyncio.Lock()
        self._task: asyncio.Task | None = None
        self.nc = self.engine = self.settings = None

    async def open(self, nc: Any, engine: Engine, settings: Settings, instance: str) -> None:
        self.nc, self.engine, self.settings = nc, engine, settings
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
                await self.leases.release(lease_key(name, county))  # a standby takes over at once

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
                    await self._take_or_wait(key, ProjectionRunner(self.nc, self.engine, self.projection(ptype), county))

    async def _take_or_wait(self, key: tuple[str, str], runner: ProjectionRunner) -> None:
        if self.settings.run_projections and await self.leases.hold(lease_key(*key)):
            self.standby.pop(key, None)
            runner = ProjectionRunner(self.nc, self.engine, runner.projection, runner.county)  # no state of a past run
            await runner.start()
            self.runners[key] = runner
            log.info("projection.owned", service=self.service, projection=key[0], county=key[1])
        else:
            self.standby[key] = runner

    async def _keep_leases(self) -> None:
        """Renew what we run (stop what we lost), take over what nobody renews any more."""
        while True:
            await asyncio.sleep(self.settings.lease_ttl_s / 3)
            try:
                async with self._county_lock:
                    # renewed all at once: one after the other, a hundred counties' leases on a loaded
                    # machine took longer than their TTL, and were lost while being renewed
                    owned = list(self.runners.items())
                    renewed = await asyncio.gather(*(self.leases.hold(lease_key(*key)) for key, _ in owned),
                                                   return_exceptions=True)
                    for (key, runner), held in zip(owned, renewed):
                        if isinstance(held, Exception):  # NATS briefly unavailable: the next round renews it
                            log.warning("projection.lease_renewal_failed", service=self.service, projection=key[0],
                                        county=key[1], error=str(held) or type(held).__name__)
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
        """Read-your-writes: wait (bounded) until this county's projections reached `seq`."""
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
        live = self.runners.get((ptype.name, county))
        return await rebuild_county(self.nc, self.engine, ptype, county, live=live)

    async def _forward_rebuild(self, county: str, ptype: type[Projection]) -> dict:
        holder = await self.leases.holder_of(lease_key(ptype.name, county))
        if holder is None:
            raise DomainError("projection_unowned", f"{ptype.name} of {county} has no running instance right now; "
                              "try again in a few seconds", 503)
        msg = await self.nc.request(rebuild_subject(holder), orjson.dumps({"county": county, "projection": ptype.name}),
                                    timeout=3600)
        reply = orjson.loads(msg.data)
        if not reply.get("ok"):
            raise DomainError.from_dict(reply["error"])
        return reply["data"]

    async def _on_forwarded_rebuild(self, msg) -> None:
        body = orjson.loads(msg.data)
        ptype = next((p for p in self.types if p.name == body.get("projection")), None)
        try:
            if ptype is None or (ptype.name, body.get("county")) not in self.runners:
                raise DomainError("projection_runs_elsewhere", "this instance no longer runs that projection", 409)
            reply = ok(await self.rebuild(body["county"], ptype))
        except DomainError as exc:
            reply = failed(exc)
        except Exception as exc:  # reported to the forwarding instance, which answers the client
            log.exception("rebuild.failed", service=self.service, county=body.get("county"))
            reply = failed(DomainError("rebuild_failed", f"重建失败 / rebuild failed: {exc}", 500))
        await msg.respond(encode(reply))

    async def health(self) -> list[dict[str, Any]]:
        """Each (projection, county): its checkpoint and lag, active here or standing by."""
        projections = []
        for (name, county), runner in list(self.runners.items()):
            lag = None
            if runner.error is None:
                with contextlib.suppress(Exception):
                    lag = await runner.pending()
            projections.append({**runner.status(lag), "role": "active"})
        for (name, county), runner in list(self.standby.items()):
            status = {"projection": name, "county": county, "role": "standby"}
            with contextlib.suppress(Exception):
                status["lag"] = await runner.pending()
                status["checkpoint"] = await runner.persisted_checkpoint()
            projections.append(status)
        return projections
