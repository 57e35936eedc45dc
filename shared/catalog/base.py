"""Base class of catalog events: versioned, frozen, upcast on read."""
from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

CATALOG: dict[str, type["DomainEvent"]] = {}


class UnknownEventVersion(ValueError):
    pass


class DomainEvent(BaseModel):
    """A fact that happened. Subclasses name the bounded context and aggregate they belong to:

        class MemberScored(DomainEvent, context="ratings", aggregate="points"): ...

    A change of meaning bumps `schema_version` and adds `upcast_vN_vM(data) -> data`, so events
    stored under the old version keep loading (see docs/decisions/003-event-envelope.md).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str]
    context: ClassVar[str]
    aggregate_type: ClassVar[str]
    schema_version: ClassVar[int] = 1

    def __init_subclass__(cls, context: str | None = None, aggregate: str | None = None, **kw: Any):
        super().__init_subclass__(**kw)
        if context is None:
            return
        cls.context, cls.aggregate_type, cls.event_type = context, aggregate or "", cls.__name__
        if cls.event_type in CATALOG:
            raise TypeError(f"event type {cls.event_type} registered twice")
        CATALOG[cls.event_type] = cls

    @classmethod
    def upcast(cls, version: int, data: dict[str, Any]) -> dict[str, Any]:
        while version < cls.schema_version:
            step = getattr(cls, f"upcast_v{version}_v{version + 1}", None)
            if step is None:
                raise UnknownEventVersion(f"{cls.event_type}: no upcaster from v{version}")
            data, version = step(data), version + 1
        if version > cls.schema_version:
            raise UnknownEventVersion(f"{cls.event_type} v{version} is newer than this code (v{cls.schema_version})")
        return data


def event_class(event_type: str) -> type[DomainEvent] | None:
    return CATALOG.get(event_type)


def decode_event(event_type: str, version: int, payload: dict[str, Any]) -> DomainEvent | None:
    """The typed event, or None for a type this code does not know (skipped by projections)."""
    cls = CATALOG.get(event_type)
    if cls is None:
        return None
    if version != cls.schema_version:  # the current version needs no upcast (the hot path of replays)
        payload = cls.upcast(version, payload)
    return cls.model_validate(payload)
