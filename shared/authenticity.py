"""Which events a reader accepts as written by a writer: the published keys (shared/signing.py) and,
per county, the stream sequence from which every event must be signed (docs/decisions/016-audit-log.md).

Readers (projection runners, rebuilds, aggregate loads, `dangjian audit verify`) refuse an event whose
hash, key or signature does not check, like a malformed event. `signed_from` lives in the county
stream's metadata, which only the operator credential can change: a new stream is signed from 1, and
the provisioner marks a stream from before signing at its next start (every later event signed).
"""
from __future__ import annotations

from typing import Any

from nats.js.errors import NotFoundError

from shared.envelope import MalformedEvent, StoredEvent, decode_parsed, parse_envelope, poisoned, subject_for
from shared.eventstore import stream_name
from shared.signing import SIGNED_FROM, EventKeys


def signed_from_of(metadata: dict[str, str] | None) -> int:
    """The stream's first sequence that must be signed; 1 (everything) when the stream is unmarked."""
    try:
        return max(1, int((metadata or {}).get(SIGNED_FROM, "1")))
    except ValueError:
        return 1


class Authenticator:
    def __init__(self, js: Any, keys: EventKeys):
        self.js, self.keys = js, keys
        self._signed_from: dict[str, int] = {}

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
        return self.keys.check(env, seq, self._signed_from.get(county, 1), signature)

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
