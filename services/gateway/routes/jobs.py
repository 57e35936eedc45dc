"""Long work the API answered with 202 (large imports, rebuilds): its state, progress and result, read from
the job registry (shared/jobs.py: a KV bucket, so any gateway answers, also after a restart). A job is
seen under the Read rules: the county department sees the county's, a township operator those asked
from their township, a branch secretary those of their branch."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request

from services.gateway.auth import TOKEN_PATTERN
from services.gateway.edge import ReadEdge
from services.gateway.problems import PROBLEM_RESPONSES, problems
from shared import jobs
from shared.errors import DomainError, forbidden

router = APIRouter(prefix="/api/v1/counties/{county}/jobs", tags=["jobs"], responses=PROBLEM_RESPONSES)
JobPath = Annotated[str, Path(pattern=TOKEN_PATTERN, description="任务编号 / job id (from the 202 answer)")]


def registry(request: Request) -> jobs.JobRegistry:
    found = getattr(request.app.state, "jobs", None)
    if found is None:
        raise DomainError("service_unavailable", "任务登记不可用 / the job registry is not reachable", 503)
    return found


@router.get("", response_model=jobs.JobList, summary="任务列表 / the county's jobs, newest first")
async def list_jobs(request: Request, edge: ReadEdge,
                    limit: Annotated[int, Query(ge=1, le=500, description="at most this many")] = 50) -> Any:
    """Jobs of the last week the caller may see (rebuilds, imports answered with 202)."""
    records = await registry(request).list(edge.county)
    return {"items": [jobs.presented(r) for r in records if jobs.visible(edge.actor, r)][:limit]}


@router.get("/{job_id}", response_model=jobs.JobView, responses=problems(403, 404),
            summary="任务状态 / a job: state, progress (done, total, rate, ETA), errors, result")
async def get_job(request: Request, edge: ReadEdge, job_id: JobPath) -> Any:
    """Poll it until `state` is no longer `running`: `succeeded` carries the command's answer in `result`
    (and `result_link` where there is something to download), `failed` the refusal in `error` (the same
    problem the synchronous request would have answered), `lost` a job whose instance stopped."""
    record = await registry(request).get(edge.county, job_id)
    if record is None:
        raise DomainError("job_not_found", f"任务 {job_id} 不存在（或已过一周） / job {job_id} not found "
                          "(records are kept for a week)", 404)
    if not jobs.visible(edge.actor, record):
        raise forbidden("无权查看本乡镇（本支部）以外的任务 / a job asked from outside your township or branch")
    return jobs.presented(record)
