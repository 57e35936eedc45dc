"""Why an append to a county's log failed (shared/eventstore.py raises them; re-exported there)."""
from __future__ import annotations

# "wrong last sequence" (a concurrent writer was first): 10071 from one server, 10164 from the leader of a
# clustered stream (the same refusal without the number); KV compare-and-set refusals too (shared/leases.py)
WRONG_LAST_SEQUENCE = frozenset({10071, 10164})


class ConcurrencyConflict(Exception):
    """Another writer appended to the aggregate since we loaded it: reload and decide again."""


class CountyNotFound(LookupError):
    pass


class LogUnavailable(RuntimeError):
    """The county's stream exists but answered no append: a clustered stream electing a leader."""
