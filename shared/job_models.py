"""What the API and the CLI show of a job (shared/jobs.py)."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

State = Literal["running", "succeeded", "failed", "lost"]


class JobView(BaseModel):
    """A job as the API and the CLI show it."""

    job_id: str = Field(description="编号 / job id")
    county: str = Field(description="县 / county code")
    kind: str = Field(description="<service>.<command>, e.g. ratings.rebuild, ratings.import_scores")
    title: str = Field(description="what it does, for people")
    state: State = Field(description="running / succeeded / failed / lost (no sign of life for a minute: "
                                     "its instance stopped; a command's effect is in the log or not at all)")
    done: int = Field(description="完成 / units done (events, rows)")
    total: int | None = Field(description="共计 / units in all, when known")
    rate_per_s: float | None = Field(description="units per second so far")
    eta_s: float | None = Field(description="预计剩余秒数 / seconds left at that rate")
    elapsed_s: float = Field(description="seconds since it started")
    errors: int = Field(description="错误数 / errors found (a refused import: its row errors)")
    error: dict[str, Any] | None = Field(description="why it failed: {code, detail, status, errors: [{field, message}]}")
    result: dict[str, Any] | None = Field(description="the command's answer when it succeeded")
    seq: int | None = Field(None, description="stream sequence its writes reached (send as Dangjian-Min-Seq)")
    result_link: str | None = Field(description="where to fetch what it produced (e.g. an error workbook)")
    requested_by: str = Field(description="role:subject of the token that started it")
    created_at: float = Field(description="started (seconds since the epoch)")
    updated_at: float = Field(description="last written")


class JobStarted(BaseModel):
    """The answer to a request run as a job (HTTP 202 with Location: link)."""

    job_id: str = Field(description="编号 / job id")
    state: State = Field(description="running")
    link: str = Field(description="GET it for the state and progress")


class JobList(BaseModel):
    items: list[JobView] = Field(description="最近的在前 / newest first")
