"""Stream management happens only with the operator credential: the provisioner.

Services may not create, update, delete or purge streams (shared/natsconf.py). What they need created
the provisioner creates: at its start the KV buckets (projection leases, token revocations), and on
request a county's event stream — the organizations service asks for it when a county is added
(`pb.platform.provision.county`, a subject only organizations may publish to). The request names a
county code and nothing else: the stream's configuration (deny delete and purge, replicas) is the
provisioner's, so the organizations credential cannot obtain any other stream.

It runs in the launcher's process on the embedded default and as its own container in the cluster
(`dangjian start --only provisioner`, the only one holding operator.nk).
"""
from __future__ import annotations

import asyncio
import contextlib

import nats
import orjson
import structlog
from nats.js.api import KeyValueConfig, StorageType
from nats.js.errors import BucketNotFoundError, NotFoundError

from shared import bus, jobs, revocations
from shared.authenticity import mark_unsigned_streams
from shared.eventstore import Durability, EventStore
from shared.ids import COUNTY_CODE
from shared.leases import BUCKET as LEASES
from shared.natsconf import PROVISION_COUNTY
from shared.settings import Settings

log = structlog.get_logger(__name__)
QUEUE = "provisioner"


def buckets(settings: Settings) -> list[KeyValueConfig]:
    """Every KV bucket the services use (add a service's bucket here)."""
    leases = KeyValueConfig(bucket=LEASES, ttl=settings.lease_ttl_s, history=1, storage=StorageType.FILE,
                            replicas=settings.stream_replicas,
                            description="which service instance runs each (projection, county)")
    return [leases, revocations.bucket_config(settings.stream_replicas), jobs.bucket_config(settings.stream_replicas)]


async def ensure_buckets(js, settings: Settings, store: EventStore | None = None) -> None:
    """The KV buckets, and (given the operator's store) the platform stream of accounts."""
    if store is not None:
        await store.add_platform_stream()
    for config in buckets(settings):
        try:
            await js.key_value(config.bucket)
        except (BucketNotFoundError, NotFoundError):
            await js.create_key_value(config)


class Provisioner:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.nc = None
        self.store: EventStore | None = None

    async def start(self, url: str) -> "Provisioner":
        self.nc = await bus.connect(self.settings, "operator", url)
        self.store = EventStore(self.nc, Durability(replicas=self.settings.stream_replicas))
        await ensure_buckets(self.nc.jetstream(), self.settings, self.store)
        for stream, seq in (await mark_unsigned_streams(self.nc.jetstream())).items():
            log.info("provisioner.signing_from", stream=stream, seq=seq)  # a log from before signing
        await self.nc.subscribe(PROVISION_COUNTY, queue=QUEUE, cb=self._on_county)
        log.info("provisioner.started")
        return self

    async def _on_county(self, msg) -> None:
        county = msg.data.decode(errors="replace")
        try:
            if not COUNTY_CODE.match(county):
                raise ValueError(f"not a county code: {county[:20]!r}")
            created = await self.store.add_county_stream(county)
            reply = {"ok": True, "created": created}
            log.info("provisioner.county_stream", county=county, created=created)
        except Exception as exc:  # answered to organizations, which refuses the command
            log.warning("provisioner.county_stream_failed", county=county[:20], error=str(exc))
            reply = {"ok": False, "error": str(exc)}
        await msg.respond(orjson.dumps(reply))

    async def stop(self) -> None:
        if self.nc:
            with contextlib.suppress(Exception):
                await self.nc.drain()


class ProvisioningFailed(RuntimeError):
    pass


async def request_county_stream(nc, county: str, timeout: float = 10.0, wait_s: float = 10.0) -> bool:
    """Ask the provisioner for the county's stream; True when it was created now, False when it existed.
    Waits up to `wait_s` for a provisioner to be running (one that restarts answers again)."""
    deadline = asyncio.get_running_loop().time() + wait_s
    while True:
        try:
            reply = orjson.loads((await nc.request(PROVISION_COUNTY, county.encode(), timeout=timeout)).data)
            break
        except nats.errors.NoRespondersError:
            if asyncio.get_running_loop().time() > deadline:
                raise ProvisioningFailed("no provisioner is running (dangjian start --only provisioner)") from None
            await asyncio.sleep(0.2)
    if not reply.get("ok"):
        raise ProvisioningFailed(reply.get("error") or "the provisioner refused")
    return bool(reply.get("created"))
