"""Identifiers: time-ordered UUIDv7 for events and new aggregates; subject-safe tokens."""
from __future__ import annotations

import re
import uuid

from uuid6 import uuid7

TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
COUNTY_CODE = re.compile(r"^[1-9]\d{5}$")
PLATFORM = "platform"  # the deployment's own stream (PB_platform): accounts; never a county


def new_id() -> str:
    return str(uuid7())


def stable_id(namespace: str, *parts: str) -> str:
    """Deterministic id (UUIDv5) so a retried import or request maps to the same aggregate."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "dangjian:" + namespace + ":" + "\x1f".join(parts)))


def is_token(value: str) -> bool:
    return bool(TOKEN.match(value))
