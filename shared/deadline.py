"""Requests carry their requester's deadline; a service does not answer one that passed (docs/decisions/020)."""
from __future__ import annotations

import time
from typing import Any

import structlog

from shared.metrics import DROPPED

log = structlog.get_logger(__name__)
DEADLINE_GRACE_S = 1.0  # the clocks of one deployment (NTP) agree far better than this


def past_deadline(body: Any, now: float | None = None) -> bool:
    """The requester stopped waiting: its reply inbox may no longer take an answer (a late reply after the
    requester's one-time response permission expired is a Publish Violation), so the work is not begun,
    or its answer not sent. A command dropped after it was applied is in the log: the requester's retry
    with the same idempotency key answers it."""
    deadline = body.get("deadline") if isinstance(body, dict) else None
    return isinstance(deadline, (int, float)) and (time.time() if now is None else now) > deadline + DEADLINE_GRACE_S


def late(service: str, body: Any, kind: str, name: str, stage: str) -> bool:
    """The requester stopped waiting: counted (stage `queued`: not begun; `answered`: reply withheld)."""
    if not past_deadline(body):
        return False
    DROPPED.labels(service, kind, name, stage).inc()
    log.info("request.dropped_late", service=service, request=name, stage=stage)
    return True
