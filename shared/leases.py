"""Exactly one instance at a time runs each (projection, county): a lease in a JetStream KV bucket.

An instance that creates the key `<projection>.<county>` owns it and renews it every third of the
TTL; the bucket's TTL removes a lease nobody renews (a dead instance), so a standby instance takes
it over within one TTL. A clean stop deletes its leases, so a standby takes over at its next
renewal round. Every projection batch still re-reads its checkpoint row under a lock, so the short
overlap a paused-then-resumed owner could cause never applies an event twice.
See docs/decisions/009-projection-leases.md.
"""
from __future__ import annotations

import asyncio
import contextlib

from nats.js.api import KeyValueConfig, StorageType
from nats.js.errors import (BadRequestError, BucketNotFoundError, KeyDeletedError, KeyNotFoundError,
                            KeyWrongLastSequenceError, NotFoundError)

from shared.appendfailures import WRONG_LAST_SEQUENCE

BUCKET = "dangjian_projection_leases"


class Leases:
    def __init__(self, js, holder: str, ttl_s: float, replicas: int = 1, bucket: str = BUCKET,
                 provisioned_within_s: float | None = None):
        """`provisioned_within_s`: the bucket is created by the provisioner (services may not create
        streams): wait up to this long for it instead of creating it."""
        self.js, self.holder, self.ttl_s, self.replicas, self.bucket = js, holder, ttl_s, replicas, bucket
        self.provisioned_within_s = provisioned_within_s
        self.kv = None
        self.held: dict[str, int] = {}  # key -> revision of our last write

    async def open(self) -> None:
        if self.provisioned_within_s is not None:
            deadline = asyncio.get_running_loop().time() + self.provisioned_within_s
            while True:
                try:
                    self.kv = await self.js.key_value(self.bucket)
                    return
                except (BucketNotFoundError, NotFoundError):
                    if asyncio.get_running_loop().time() > deadline:
                        raise RuntimeError(f"KV bucket {self.bucket} missing: is the provisioner running?") from None
                    await asyncio.sleep(0.5)
        try:
            self.kv = await self.js.key_value(self.bucket)
        except (BucketNotFoundError, NotFoundError):
            self.kv = await self.js.create_key_value(KeyValueConfig(
                bucket=self.bucket, ttl=self.ttl_s, history=1, storage=StorageType.FILE, replicas=self.replicas,
                description="which service instance runs each (projection, county)"))

    async def hold(self, key: str) -> bool:
        """Take the lease if it is free, renew it if it is ours; False when another instance holds it."""
        revision = self.held.get(key)
        try:
            if revision is None:
                self.held[key] = await self._create(key)
            else:
                self.held[key] = await self.kv.update(key, self.holder.encode(), last=revision)
            return True
        except Exception as exc:
            if not _taken(exc):
                raise
            self.held.pop(key, None)
            return False

    async def _create(self, key: str) -> int:
        """kv.create, also for a clustered bucket: its "wrong last sequence" (10164) is not the error nats-py
        maps to "exists", so a lease released with a delete marker would otherwise look held until the TTL."""
        try:
            return await self.kv.update(key, self.holder.encode(), last=0)
        except Exception as exc:
            if not _taken(exc):
                raise
        try:
            await self.kv.get(key)  # a live value: someone holds it
        except KeyDeletedError as deleted:  # released (or purged): take it over the marker
            return await self.kv.update(key, self.holder.encode(), last=deleted.entry.revision)
        raise KeyWrongLastSequenceError

    async def holder_of(self, key: str) -> str | None:
        with contextlib.suppress(Exception):
            entry = await self.kv.get(key)
            return entry.value.decode() if entry.value else None
        return None

    async def release(self, key: str) -> None:
        revision = self.held.pop(key, None)
        if revision is not None:
            with contextlib.suppress(Exception):
                await self.kv.delete(key, last=revision)


def _taken(exc: Exception) -> bool:
    """The refusals that mean another instance wrote the key first (or it vanished meanwhile: retried next round)."""
    if isinstance(exc, (KeyWrongLastSequenceError, KeyNotFoundError)):
        return True
    return isinstance(exc, BadRequestError) and exc.err_code in WRONG_LAST_SEQUENCE

