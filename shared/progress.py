"""Progress of long work (a rebuild's replay): events done of a total, the rate, the time left. The
owner of a rebuild shows it in its health (`"rebuild": {...}` on the projection), which `dangjian
rebuild` draws as a progress bar while it waits and `GET /healthz` (platform admin) shows to the API."""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Progress:
    total: int = 0
    done: int = 0
    started: float = field(default_factory=time.monotonic)
    phase: str = "replay"
    listener: Callable[[int, int], None] | None = None  # e.g. the job it belongs to (shared/jobs.py)

    def update(self, done: int, total: int | None = None) -> None:
        self.done = done
        if total is not None:
            self.total = total
        if self.listener is not None:
            self.listener(self.done, self.total)

    def figures(self, now: float | None = None) -> dict:
        elapsed = max((now if now is not None else time.monotonic()) - self.started, 1e-9)
        rate = self.done / elapsed
        left = max(self.total - self.done, 0)
        return {"phase": self.phase, "events_done": self.done, "events_total": self.total,
                "rate_per_s": round(rate, 1), "eta_s": round(left / rate, 1) if rate > 0 else None,
                "elapsed_s": round(elapsed, 1)}
