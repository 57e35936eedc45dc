"""Revoked bearer tokens: a JetStream KV bucket of (scope, subject) → when its tokens were revoked.

Every token of that subject issued (iat) at or before the revocation is refused by every gateway
instance: each one watches the bucket and keeps it in memory, so a revocation takes effect
everywhere within a moment and costs nothing per request. A county admin revokes a subject's tokens
for their county (scope = county code), a platform admin or the CLI for every county (scope "all").
Keys are `<scope>.<subject in base64url>` (KV keys allow only a few characters). The bucket is
created by the provisioner (operator credential); the gateway and the CLI may write it.
"""
from __future__ import annotations

import asyncio
import base64
import contextlib
import time

import orjson
import structlog
from nats.js.api import KeyValueConfig, StorageType
from nats.js.errors import BucketNotFoundError, NotFoundError

log = structlog.get_logger(__name__)
BUCKET = "dangjian_token_revocations"
EVERY_COUNTY = "all"


def revocation_key(sub: str, county: str | None) -> str:
    encoded = base64.urlsafe_b64encode(sub.encode()).decode().rstrip("=")
    return f"{county or EVERY_COUNTY}.{encoded}"


def bucket_config(replicas: int = 1) -> KeyValueConfig:
    return KeyValueConfig(bucket=BUCKET, history=1, storage=StorageType.FILE, replicas=replicas,
                          description="revoked bearer tokens: (scope, subject) -> revoked before this time")


async def revoke(js, sub: str, county: str | None, by: str, at: float | None = None) -> float:
    """Record that every token of `sub` (for `county`, or every county when None) issued up to now is
    refused; returns the revocation time (seconds since the epoch)."""
    kv = await js.key_value(BUCKET)
    at = time.time() if at is None else at
    await kv.put(revocation_key(sub, county), orjson.dumps({"sub": sub, "county": county, "revoked_at": at, "by": by}))
    return at


class RevocationList:
    """The bucket's content held in memory by one gateway, kept current by a KV watch."""

    def __init__(self) -> None:
        self._revoked: dict[str, float] = {}
        self._task: asyncio.Task | None = None
        self.ready = asyncio.Event()

    def revoked(self, sub: str, county: str | None, issued_at: float) -> bool:
        for key in {revocation_key(sub, None), revocation_key(sub, county)}:
            at = self._revoked.get(key)
            if at is not None and issued_at <= at:
                return True
        return False

    def note(self, key: str, value: bytes | None) -> None:
        if not value:
            self._revoked.pop(key, None)
            return
        with contextlib.suppress(orjson.JSONDecodeError, KeyError, TypeError):
            self._revoked[key] = float(orjson.loads(value)["revoked_at"])

    async def start(self, js, wait_s: float = 10.0) -> None:
        self._task = asyncio.create_task(self._watch(js), name="token-revocations")
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(wait_s):
                await self.ready.wait()

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    async def _watch(self, js) -> None:
        while True:
            watcher = None
            try:
                kv = await js.key_value(BUCKET)
                watcher = await kv.watchall()
                async for entry in watcher:
                    if entry is None:  # the initial values are in
                        self.ready.set()
                        continue
                    self.note(entry.key, entry.value if entry.operation is None else None)
            except asyncio.CancelledError:
                raise
            except (BucketNotFoundError, NotFoundError):
                log.warning("revocations.bucket_missing", bucket=BUCKET)
            except Exception as exc:  # NATS unavailable: watch again
                log.warning("revocations.watch_failed", error=type(exc).__name__)
            finally:
                if watcher is not None:
                    with contextlib.suppress(Exception):
                        await watcher.stop()
            await asyncio.sleep(1.0)
