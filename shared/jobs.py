"""Long work as jobs: rebuilds and large imports answer at once with a job id and go on; their state,
progress (done of total, rate, time left), errors and result are written to a JetStream KV bucket, so
the status outlives the request (a CLI stopped with ^C, a gateway restarted) and any gateway or CLI
can show it (`GET /api/v1/counties/{c}/jobs/{id}`, `dangjian jobs`).

A route declared with `job=True` (shared/routes.py) runs as a job when the request envelope says
`"as_job": true` (shared/messaging.Request); otherwise it answers as before, when done. The handler
is the same either way: it reports progress with `jobs.report(done, total)`, a no-op outside a job,
and its reply (ok or refusal) becomes the job's result or error. See docs/decisions/020.

Keys are `<county>.<job id>`; a record says who asked (`requested_by`, and the township/branch of their
token), and a reader sees it under `Actor.sees` like any other thing of the county. The bucket keeps
records for a week (its TTL); the provisioner creates it (services may not create streams).
"""
from __future__ import annotations

import asyncio
import contextlib
import contextvars
import time
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
import structlog
from nats.js.api import KeyValueConfig, StorageType
from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError, NotFoundError

from shared.auth import Actor, InvalidToken
from shared.errors import DomainError, forbidden
from shared.ids import new_id
from shared.job_models import JobList, JobStarted, JobView, State  # noqa: F401  (the API's models)
from shared.messaging import failed, ok
from shared.metrics import JOBS_ENDED
from shared.progress import Progress

log = structlog.get_logger(__name__)
BUCKET = "dangjian_jobs"
KEEP_S = 7 * 24 * 3600
FLUSH_EVERY_S = 1.0      # progress reaches the bucket at most this often ...
HEARTBEAT_S = 5.0        # ... and at least this often while the job runs
STALE_S = 60.0           # a running record not written for this long: its instance stopped ("lost")
MAX_ERRORS = 1000        # field errors kept in a failed job's record (the count says how many there were)


def bucket_config(replicas: int = 1) -> KeyValueConfig:
    return KeyValueConfig(bucket=BUCKET, history=1, ttl=KEEP_S, storage=StorageType.FILE, replicas=replicas,
                          description="long work (rebuilds, imports): state, progress and result per job")


def job_link(county: str, job_id: str) -> str:
    return f"/api/v1/counties/{county}/jobs/{job_id}"


def visible(actor: Actor, record: dict) -> bool:
    """Read rules: the county department sees the county's jobs, a township operator those asked from
    their township, a branch secretary those of their branch."""
    return actor.in_county(record["county"]) and actor.sees(record.get("township"), record.get("branch"))


def presented(record: dict, now: float | None = None) -> dict:
    """The record as shown: a running job whose instance stopped writing is `lost`."""
    now = time.time() if now is None else now
    view = {k: v for k, v in record.items() if k not in ("township", "branch")}
    if record["state"] == "running":
        view["elapsed_s"] = round(now - record["created_at"], 1)
        if now - record["updated_at"] > STALE_S:
            view["state"] = "lost"
            view["error"] = {"code": "job_lost", "status": 503, "errors": [],
                             "detail": f"任务 {int(now - record['updated_at'])} 秒无进展，运行它的实例已停止 / no sign "
                                       "of life: the instance running it stopped; run it again"}
    return view


class JobRegistry:
    """The bucket, read and written (records are merged: a forwarded rebuild's owner writes progress
    while the instance that took the request writes the heartbeat and the end)."""

    def __init__(self, js: Any):
        self.js = js
        self._kv = None

    async def kv(self):
        if self._kv is None:
            self._kv = await self.js.key_value(BUCKET)
        return self._kv

    async def merge(self, county: str, job_id: str, changes: dict, create: bool = False) -> dict:
        kv, key = await self.kv(), f"{county}.{job_id}"
        for _ in range(20):
            if create:
                record = {**changes, "updated_at": time.time()}
                await kv.create(key, orjson.dumps(record))
                return record
            entry = await kv.get(key)
            record = {**orjson.loads(entry.value), **changes, "updated_at": time.time()}
            with contextlib.suppress(KeyWrongLastSequenceError):
                await kv.update(key, orjson.dumps(record), last=entry.revision)
                return record
        raise RuntimeError(f"job {key}: too many concurrent writes")

    async def get(self, county: str, job_id: str) -> dict | None:
        try:
            entry = await (await self.kv()).get(f"{county}.{job_id}")
        except (KeyNotFoundError, NotFoundError):
            return None
        return orjson.loads(entry.value) if entry.value else None

    async def list(self, county: str) -> list[dict]:
        """The county's records, newest first: the keys from the bucket stream's subjects (a KV watch's
        end-of-data marker can come before large records), each read with a direct get."""
        info = await self.js.stream_info(f"KV_{BUCKET}", subjects_filter=f"$KV.{BUCKET}.{county}.*")
        keys = [subject.split(".", 2)[2] for subject in (info.state.subjects or {})]
        found = await asyncio.gather(*(self.get(*key.split(".", 1)) for key in keys))
        return sorted((r for r in found if r), key=lambda r: r["created_at"], reverse=True)


_current: contextvars.ContextVar["Job | None"] = contextvars.ContextVar("job", default=None)


class Job:
    """One job's progress, written through to the registry (throttled)."""

    def __init__(self, registry: JobRegistry, county: str, job_id: str, kind: str = ""):
        self.registry, self.county, self.job_id, self.kind = registry, county, job_id, kind
        self.progress = Progress(phase="run")
        self.errors = 0
        self.local = False  # progress reported here (not only by the owner of a forwarded rebuild)
        self._flushed = 0.0
        self._pending: asyncio.Task | None = None

    def report(self, done: int, total: int | None = None, errors: int | None = None) -> None:
        self.local = True
        self.progress.update(done, total)
        if errors is not None:
            self.errors = errors
        if time.monotonic() - self._flushed >= FLUSH_EVERY_S and (self._pending is None or self._pending.done()):
            self._pending = asyncio.get_running_loop().create_task(self.flush())

    def figures(self) -> dict:
        f = self.progress.figures()
        return {"done": f["events_done"], "total": f["events_total"] or None, "rate_per_s": f["rate_per_s"],
                "eta_s": f["eta_s"], "elapsed_s": f["elapsed_s"], "errors": self.errors}

    async def flush(self, **changes: Any) -> None:
        """Progress (where reported here) and a sign of life."""
        self._flushed = time.monotonic()
        try:
            await self.registry.merge(self.county, self.job_id, {**(self.figures() if self.local else {}), **changes})
        except Exception as exc:  # progress is a courtesy; the end is written again below
            log.warning("job.flush_failed", job=self.job_id, error=str(exc))


def report(done: int, total: int | None = None, errors: int | None = None) -> None:
    """The running handler's progress (no-op unless it runs as a job)."""
    job = _current.get()
    if job is not None:
        job.report(done, total, errors)


def current_ref() -> dict | None:
    """The running job, for work forwarded to another instance (which reports to it with `attach`)."""
    job = _current.get()
    return {"county": job.county, "job_id": job.job_id} if job is not None else None


def attach(registry: JobRegistry, ref: dict | None) -> contextvars.Token | None:
    """Report this task's progress to a job another instance started (a forwarded rebuild)."""
    if not ref or registry is None:
        return None
    return _current.set(Job(registry, ref["county"], ref["job_id"]))


def detach(token: contextvars.Token | None) -> None:
    if token is not None:
        _current.reset(token)


def listener() -> Callable[[int, int], None] | None:
    """For shared.progress.Progress: forwards updates to the current job, if any."""
    job = _current.get()
    return None if job is None else (lambda done, total: job.report(done, total))


Answer = Callable[[str, Any, Any], Awaitable[dict]]


async def start(service: Any, county: str, body: dict, route: Any, answer: Answer) -> dict:
    """Answers a request at once with a job id and runs it on: `answer` is the service's usual answering
    of the request (validation, scope, the handler, refusals as replies), called without `as_job`."""
    try:
        actor = service.verifier.actor(body.get("token") or "")
    except InvalidToken as exc:
        return failed(DomainError("unauthenticated", f"身份令牌无效 / invalid token: {exc}", 401))
    if not actor.in_county(county):
        return failed(forbidden(f"无权访问县 {county} / token is not valid for county {county}"))
    title = (route.fn.__doc__ or route.name).strip().splitlines()[0]
    job = await _begin(service.host.jobs, county, actor, f"{service.name}.{route.name}", title)
    _spawn(service.running_jobs, _run(job, answer, county, {**body, "as_job": False}, route), job)
    return ok(JobStarted(job_id=job.job_id, state="running", link=job_link(county, job.job_id)))


async def run_here(registry: JobRegistry, county: str, actor: Actor, kind: str, title: str,
                   work: Callable[[], Awaitable[dict]], running: set, result_link: str | None = None) -> JobStarted:
    """A job whose work runs in this process (the gateway's 积分表 import, which fans out to a service):
    `work` returns the answer's data (with its `seq`) or raises the DomainError it would have answered."""
    job = await _begin(registry, county, actor, kind, title, result_link)

    async def answer(*_: Any) -> dict:
        try:
            data = await work()
        except DomainError as exc:
            return failed(exc)
        return ok(data, int(data.get("seq") or 0))

    _spawn(running, _run(job, answer, county, {}, None), job)
    return JobStarted(job_id=job.job_id, state="running", link=job_link(county, job.job_id))


async def _begin(registry: JobRegistry, county: str, actor: Actor, kind: str, title: str,
                 result_link: str | None = None) -> "Job":
    job_id = new_id()
    link = result_link.format(job_id=job_id) if result_link else None
    await registry.merge(county, job_id, {
        "job_id": job_id, "county": county, "kind": kind, "title": title,
        "state": "running", "done": 0, "total": None, "rate_per_s": None, "eta_s": None, "elapsed_s": 0.0,
        "errors": 0, "error": None, "result": None, "result_link": link,
        "requested_by": f"{actor.role}:{actor.sub}", "township": actor.township, "branch": actor.branch,
        "created_at": time.time()}, create=True)
    return Job(registry, county, job_id, kind)


def _spawn(running: set, work: Awaitable[None], job: "Job") -> None:
    task = asyncio.ensure_future(work)
    task.set_name(f"job:{job.job_id}")
    running.add(task)  # held until done: a task nobody references may be collected mid-work
    task.add_done_callback(running.discard)


async def _run(job: Job, answer: Answer, county: str, body: dict, route: Any) -> None:
    token = _current.set(job)
    beat = asyncio.create_task(_heartbeat(job))
    try:
        reply = await answer(county, body, route)
    except Exception as exc:  # answer() turns refusals into replies; this is a bug, logged
        log.exception("job.failed", job=job.job_id)
        reply = failed(DomainError("internal_error", f"内部错误，已记录 / internal error (logged): {type(exc).__name__}", 500))
    finally:
        beat.cancel()
        _current.reset(token)
    if reply.get("ok"):
        end = {"state": "succeeded", "result": reply.get("data"), "seq": reply.get("seq") or None, "eta_s": 0.0}
    else:
        error = dict(reply.get("error") or {})
        errors = list(error.get("errors") or [])
        error["errors"] = errors[:MAX_ERRORS]
        end = {"state": "failed", "error": error, "errors": max(job.errors, len(errors)), "result_link": None}
    JOBS_ENDED.labels(job.kind, end["state"]).inc()
    for attempt in range(5):  # the end must reach the bucket (a leader election may take a moment)
        try:
            await job.registry.merge(job.county, job.job_id, {**(job.figures() if job.local else {}), **end})
            return
        except Exception as exc:
            log.warning("job.end_not_written", job=job.job_id, attempt=attempt, error=str(exc))
            await asyncio.sleep(1 + attempt)


async def _heartbeat(job: Job) -> None:
    while True:
        await asyncio.sleep(HEARTBEAT_S)
        await job.flush()
