"""Why an append to a county's log failed (shared/eventstore.py raises them; re-exported there)."""
from __future__ import annotations

from collections.abc import Awaitable, Callable

# "wrong last sequence" (a concurrent writer was first): 10071 from one server, 10164 from the leader of a
# clustered stream (the same refusal without the number); KV compare-and-set refusals too (shared/leases.py)
WRONG_LAST_SEQUENCE = frozenset({10071, 10164})


class ConcurrencyConflict(Exception):
    """Another writer appended to the aggregate since we loaded it: reload and decide again."""


class CountyNotFound(LookupError):
    pass


class LogUnavailable(RuntimeError):
    """The county's stream exists but answered no append: a clustered stream electing a leader."""


async def missing_or_unavailable(county: str, known: bool, has_county: Callable[[str], Awaitable[bool]]) -> Exception:
    """No responders to an append or a read: the county has no stream (404) — or, in a cluster, its stream
    has no leader for a moment (an election after a node died: 503, retried). `known`: it was written to."""
    try:
        known = known or await has_county(county)
    except Exception:  # noqa: BLE001 - no answer to stream info either: unavailable, not absent
        known = True
    return LogUnavailable(county) if known else CountyNotFound(county)
