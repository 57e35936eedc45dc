"""Verifier of the per-aggregate hash chains: re-hashes every envelope of a county's log and reports
the first broken link (a changed, inserted or foreign event)."""
from __future__ import annotations

from dataclasses import dataclass

import orjson

from shared.canonical import GENESIS, chain_hash
from shared.eventstore import EventStore


@dataclass
class BrokenLink:
    seq: int
    subject: str
    reason: str


@dataclass
class VerifyReport:
    county: str
    checked: int
    first_broken: BrokenLink | None

    @property
    def ok(self) -> bool:
        return self.first_broken is None


def check_link(body: bytes, expected_prev: str) -> str | None:
    """None when the envelope is intact and follows expected_prev; else what is wrong."""
    try:
        env = orjson.loads(body)
        claimed = env.pop("hash")
        prev = env["prev_hash"]
    except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError):
        return "not a dangjian envelope (no hash chain fields)"
    if prev != expected_prev:
        return f"prev_hash {prev[:12]}… does not match the previous event of this aggregate ({expected_prev[:12]}…)"
    if chain_hash(env) != claimed:
        return "hash does not match the envelope's content (altered after it was sealed)"
    return None


async def verify_county(store: EventStore, county: str) -> VerifyReport:
    last: dict[str, str] = {}
    checked = 0
    async for seq, subject, body in store.read_raw(county):
        reason = check_link(body, last.get(subject, GENESIS))
        if reason:
            return VerifyReport(county, checked, BrokenLink(seq, subject, reason))
        last[subject] = orjson.loads(body)["hash"]
        checked += 1
    return VerifyReport(county, checked, None)
