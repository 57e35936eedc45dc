"""Which events a reader accepts as written by a writer: the published keys (shared/signing.py) and,
per county, the stream sequence from which every event must be signed (docs/decisions/016-audit-log.md).

Readers (projection runners, rebuilds, aggregate loads, `dangjian audit verify`) refuse an event whose
hash, key or signature does not check, like a malformed event. `signed_from` lives in the county
stream's metadata, which only the operator credential can change: a new stream is signed from 1, and
the provisioner marks a stream from before signing at its next start (every later event signed).
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from nats.js.errors import NotFoundError

from shared.canonical import GENESIS
from shared.envelope import MalformedEvent, StoredEvent, decode_parsed, parse_envelope, poisoned, subject_for
from shared.eventstore import stream_name
from shared.signing import SIGNED_FROM, EventKeys

KEYS_FRESH_S = 1.0  # the published keys are re-read (when the file changed) at most this often


def signed_from_of(metadata: dict[str, str] | None) -> int:
    """The stream's first sequence that must be signed; 1 (everything) when the stream is unmarked."""
    try:
        return max(1, int((metadata or {}).get(SIGNED_FROM, "1")))
    except ValueError:
        return 1


class Authenticator:
    def __init__(self, js: Any, keys: EventKeys | None = None, path: Path | None = None):
        """`path` (the credentials directory or event-keys.json): the keys are followed as the file changes —
        a rotated writer's new key is accepted, a revocation takes effect, without restarting readers."""
        self.js, self._path = js, path
        self._keys = keys if keys is not None else EventKeys.shared(path)
        self._looked_at = time.monotonic()
        self._signed_from: dict[str, int] = {}

    @property
    def keys(self) -> EventKeys:
        if self._path is not None and time.monotonic() - self._looked_at > KEYS_FRESH_S:
            self._looked_at = time.monotonic()
            self._keys = EventKeys.shared(self._path)  # the same instance while the file is unchanged
        return self._keys

    async def prime(self, county: str) -> int:
        """Read (once) the county's signed_from; call before `check` is used for that county."""
        if county not in self._signed_from:
            try:
                info = await self.js.stream_info(stream_name(county))
                self._signed_from[county] = signed_from_of(info.config.metadata)
            except NotFoundError:
                return 1
        return self._signed_from[county]

    def check(self, county: str, seq: int, subject: str, env: dict[str, Any], signature: bool = True) -> str | None:
        """None for an authentic envelope on its own aggregate's subject, else why not (thread-safe).
        `signature=False`: all but the Ed25519 check, which the caller does on the chain's head."""
        if env["county"] != county or subject != subject_for(county, env["context"], env["aggregate_type"],
                                                             env["aggregate_id"]):
            return "the envelope belongs to another subject (copied from elsewhere)"
        refused = self.keys.check(env, seq, self._signed_from.get(county, 1), signature, county)
        if refused and refused.startswith("signed with an unknown key") and self._path is not None:
            self._keys = EventKeys.shared(self._path)  # a key published since the last look: look now
            refused = self._keys.check(env, seq, self._signed_from.get(county, 1), signature, county)
        return refused

    def chains(self, county: str) -> "Chains":
        return Chains(self, county)

    async def read_matching(self, raws: AsyncIterator[tuple[int, str, bytes]], county: str,
                            upto_seq: int | None) -> AsyncIterator[StoredEvent]:
        """EventStore.read_matching's events authenticated (Chains): refused as 409 naming the sequence."""
        await self.prime(county)
        chains = self.chains(county)
        async for seq, subject, data in raws:
            if upto_seq is not None and seq > upto_seq:
                break
            try:
                env = parse_envelope(data)
                chains.feed(seq, subject, env)
                ev = decode_parsed(seq, subject, env)
            except MalformedEvent as exc:
                raise poisoned(seq, subject, str(exc)) from None
            yield ev
        if failed := await asyncio.to_thread(chains.failed_head):
            raise poisoned(failed[0], failed[1], f"not authentic: {failed[2]}")

    def checked(self, county: str, seq: int, subject: str, data: bytes) -> StoredEvent:
        """An aggregate load's event, decoded; refused (409 naming the sequence) when not authentic."""
        try:
            env = parse_envelope(data)
        except MalformedEvent as exc:
            raise poisoned(seq, subject, str(exc)) from None
        refused = self.check(county, seq, subject, env)
        if refused:
            raise poisoned(seq, subject, f"not authentic: {refused}")
        try:
            return decode_parsed(seq, subject, env)
        except MalformedEvent as exc:
            raise poisoned(seq, subject, str(exc)) from None


class Chains:
    """Authenticates events read aggregate by aggregate from the start of their subjects (a rebuild's
    replay, a wildcard read of the log for an as-of answer): each event's subject, hash, key and link to
    its aggregate's previous event as it comes (`feed`), and the Ed25519 signature of each aggregate's
    last event read at the end (`finish`) — a valid head vouches for the intact chain below it (the hash
    covers prev_hash; a writer never signs onto an event it cannot verify), so a read costs one signature
    check per aggregate rather than per event. Raises MalformedEvent naming the sequence."""

    def __init__(self, auth: Authenticator, county: str):
        self.auth, self.county = auth, county
        self.heads: dict[str, tuple[int, dict[str, Any]]] = {}  # subject -> (seq, key id/hash/sig of its last event)

    def feed(self, seq: int, subject: str, env: dict[str, Any]) -> None:
        if refused := self.auth.check(self.county, seq, subject, env, signature=False):
            raise MalformedEvent(f"not authentic: {refused}")
        head = self.heads.get(subject)
        if env["prev_hash"] != (head[1]["hash"] if head else GENESIS):
            raise MalformedEvent("not authentic: prev_hash does not follow its aggregate's last event")
        self.heads[subject] = (seq, {"hash": env["hash"], "sig": env.get("sig"), "key_id": env.get("key_id")})

    def failed_head(self) -> tuple[int, str, str] | None:
        """(seq, subject, why) of the first aggregate whose last event's signature does not verify."""
        keys = self.auth.keys
        for subject, (seq, head) in self.heads.items():
            if head["sig"] is not None and (refused := keys.check_signature(head)):
                return seq, subject, refused
        return None

    def finish(self) -> None:
        if failed := self.failed_head():
            seq, subject, refused = failed
            raise MalformedEvent(f"the last event of aggregate {subject} (seq {seq}) is not authentic: {refused}")


async def mark_unsigned_streams(js: Any) -> dict[str, int]:
    """Operator only: every county stream without SIGNED_FROM gets it = its next sequence, so the events
    stored before signing existed stay readable and every later one must be signed."""
    marked: dict[str, int] = {}
    for info in await js.streams_info():
        config = info.config
        if not (config.name or "").startswith("PB_") or SIGNED_FROM in (config.metadata or {}):
            continue
        fresh = await js.stream_info(config.name)
        config = fresh.config
        config.metadata = {**(config.metadata or {}), SIGNED_FROM: str(fresh.state.last_seq + 1)}
        await js.update_stream(config)
        marked[config.name] = fresh.state.last_seq + 1
    return marked
