"""The event envelope: self-describing JSON, so an archived event needs nothing else to be read.

Body keys: event_id (UUIDv7), type, version, county, context, aggregate_type, aggregate_id,
occurred_at (business time), recorded_at, actor, correlation_id, causation_id, payload,
prev_hash and hash (the per-aggregate chain, see shared/canonical.py); since decision 016 also
key_id and sig (the writer's signature of the hash, shared/signing.py; older events have neither).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import msgspec
import orjson

from shared.canonical import GENESIS, chain_hash
from shared.catalog.base import CATALOG, DomainEvent, decode_event
from shared.errors import DomainError
from shared.ids import new_id

if TYPE_CHECKING:
    from shared.signing import Signer

REQUIRED = {
    "event_id": str, "type": str, "version": int, "county": str, "context": str,
    "aggregate_type": str, "aggregate_id": str, "occurred_at": str, "recorded_at": str,
    "actor": str, "correlation_id": str, "payload": dict, "prev_hash": str, "hash": str,
}


class MalformedEvent(ValueError):
    """An event in the log that this code cannot read: it stops the projection, it is never skipped."""


def subject_for(county: str, context: str, aggregate_type: str, aggregate_id: str) -> str:
    return f"pb.{county}.evt.{context}.{aggregate_type}.{aggregate_id}"


def now_utc() -> datetime:
    return datetime.now(UTC)


def iso(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class Metadata:
    """Who did it and why: copied into every envelope a command produces."""

    actor: str
    correlation_id: str = field(default_factory=new_id)
    causation_id: str | None = None


def seal(county: str, aggregate_id: str, event: DomainEvent, meta: Metadata, prev_hash: str | None,
         occurred_at: datetime | None = None, event_id: str | None = None,
         signer: Signer | None = None) -> dict[str, Any]:
    """Build the envelope dict for a new event, hashed onto the aggregate's chain and signed by the
    writer's key (unsigned only in tests that write the log directly)."""
    now = now_utc()
    env: dict[str, Any] = {
        "event_id": event_id or new_id(),
        "type": event.event_type,
        "version": event.schema_version,
        "county": county,
        "context": event.context,
        "aggregate_type": event.aggregate_type,
        "aggregate_id": aggregate_id,
        "occurred_at": iso(occurred_at or now),
        "recorded_at": iso(now),
        "actor": meta.actor,
        "correlation_id": meta.correlation_id,
        "causation_id": meta.causation_id,
        "payload": event.model_dump(mode="json"),
        "prev_hash": prev_hash or GENESIS,
    }
    if signer is not None:
        return signer.sign(env)
    env["hash"] = chain_hash(env)
    return env


@dataclass(slots=True)
class StoredEvent:
    """One event read back from the log, with its stream sequence."""

    seq: int
    subject: str
    envelope: dict[str, Any] | WireEnvelope  # read by key either way
    event: DomainEvent | None  # None: a type this code does not know

    @property
    def type(self) -> str:
        return self.envelope["type"]

    @property
    def aggregate_id(self) -> str:
        return self.envelope["aggregate_id"]

    @property
    def hash(self) -> str:
        return self.envelope["hash"]

    @property
    def recorded_at(self) -> datetime:
        return datetime.fromisoformat(self.envelope["recorded_at"])

    @property
    def occurred_at(self) -> datetime:
        return datetime.fromisoformat(self.envelope["occurred_at"])

    @property
    def actor(self) -> str:
        return self.envelope["actor"]


def parse_envelope(data: bytes) -> dict[str, Any]:
    try:
        env = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise MalformedEvent(f"not JSON: {exc}") from None
    if not isinstance(env, dict):
        raise MalformedEvent("envelope is not a JSON object")
    for key, typ in REQUIRED.items():
        if not isinstance(env.get(key), typ):
            raise MalformedEvent(f"envelope field {key!r} missing or not {typ.__name__}")
    return env


def decode(seq: int, subject: str, data: bytes) -> StoredEvent:
    return decode_parsed(seq, subject, parse_envelope(data))


class WireEnvelope(msgspec.Struct):
    """The envelope as read by projections and replays: msgspec checks every REQUIRED field's type while
    it parses (strict: no coercion), and leaves the payload as raw JSON for the event class to validate
    from bytes. Read by key like the dict `parse_envelope` returns (`env["actor"]`); `payload` stays raw."""

    event_id: str
    type: str
    version: int
    county: str
    context: str
    aggregate_type: str
    aggregate_id: str
    occurred_at: str
    recorded_at: str
    actor: str
    correlation_id: str
    payload: msgspec.Raw
    prev_hash: str
    hash: str
    causation_id: Any = None

    def __getitem__(self, key: str) -> Any:
        return getattr(self, key)

    def get(self, key: str, default: Any = None) -> Any:
        return getattr(self, key, default)


_wire = msgspec.json.Decoder(WireEnvelope)
_OPEN_BRACE = ord("{")


def decode_wire(seq: int, subject: str, data: bytes, handles: frozenset[str] | set[str]) -> StoredEvent | None:
    """One pass over a stored event for a fold (docs/decisions/021-performance.md): the envelope is parsed
    and checked by msgspec, the payload of a type in `handles` validated from its bytes by the event
    class's Pydantic validator (an older version: parsed, upcast, validated). Any other type — or one this
    code does not know — is None once its envelope is checked. The same checks as `parse_envelope` and
    `decode_parsed`: a malformed event raises MalformedEvent."""
    try:
        env = _wire.decode(data)
    except msgspec.ValidationError as exc:
        raise MalformedEvent(f"envelope {exc}") from None
    except msgspec.DecodeError as exc:
        raise MalformedEvent(f"not JSON: {exc}") from None
    raw = env.payload
    if memoryview(raw)[0] != _OPEN_BRACE:
        raise MalformedEvent("envelope field 'payload' missing or not dict")
    if env.type not in handles:
        return None
    cls = CATALOG.get(env.type)
    if cls is None:
        return None
    try:
        if env.version == cls.schema_version:
            event = cls.__pydantic_validator__.validate_json(bytes(raw))
        else:
            event = cls.model_validate(cls.upcast(env.version, orjson.loads(bytes(raw))))
    except ValueError as exc:  # pydantic.ValidationError, UnknownEventVersion, orjson's JSONDecodeError
        raise MalformedEvent(f"{env.type} v{env.version}: {exc}") from None
    return StoredEvent(seq, subject, env, event)


def decode_parsed(seq: int, subject: str, env: dict[str, Any]) -> StoredEvent:
    """The typed payload of an already parsed envelope (upcast, then validated by its catalog class)."""
    try:
        event = decode_event(env["type"], env["version"], env["payload"])
    except ValueError as exc:  # pydantic.ValidationError and UnknownEventVersion are ValueErrors
        raise MalformedEvent(f"{env['type']} v{env['version']}: {exc}") from None
    return StoredEvent(seq, subject, env, event)


def poisoned(seq: int, subject: str, reason: str) -> DomainError:
    """A stored event this code cannot decode: the aggregate is unusable until it is repaired (an
    upcaster, or a correcting event by an operator), so the request is refused naming the event."""
    return DomainError("poisoned_event",
                       f"事件无法解码（流序号 {seq}），该对象暂不可用 / the event at stream sequence {seq} "
                       f"({subject}) cannot be decoded: {reason}", 409)


def decode_checked(seq: int, subject: str, data: bytes) -> StoredEvent:
    try:
        return decode(seq, subject, data)
    except MalformedEvent as exc:
        raise poisoned(seq, subject, str(exc)) from None
