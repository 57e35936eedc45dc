"""Canonical JSON (sorted keys, compact, UTF-8) and the per-aggregate hash chain."""
from __future__ import annotations

import hashlib
from typing import Any

import orjson

GENESIS = "0" * 64


def canonical_json(obj: Any) -> bytes:
    return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)


def chain_hash(envelope_without_hash: dict[str, Any]) -> str:
    """sha256 of the canonical envelope, which already carries prev_hash: a link in the chain."""
    return hashlib.sha256(canonical_json(envelope_without_hash)).hexdigest()
