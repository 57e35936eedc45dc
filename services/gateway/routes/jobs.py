"""Long work the API answered with 202 (large imports, rebuilds): its state, progress and result, read from
the job registry (shared/jobs.py: a KV bucket, so any gateway answers, also after a restart). A job is
seen under the Read rules: the county department sees the county's, a township operator those asked
from their township, a branch secretary those of their branch."""
from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from services.gateway import score_sheet
from services.gateway.auth import TOKEN_PATTERN
from services.gateway.edge import ReadEdge
from services.gateway.files import XLSX, XLSX_RESPONSES, content_disposition
from services.gateway.problems import PROBLEM_RESPONSES, problems
from shared import jobs
from shared.errors import DomainError, forbidden

router = APIRouter(prefix="/api/v1/counties/{county}/jobs", tags=["jobs"], responses=PROBLEM_RESPONSES)
JobPath = Annotated[str, Path(pattern=TOKEN_PATTERN, description="任务编号 / job id (from the 202 answer)")]


def registry(state: Any) -> jobs.JobRegistry:
    found = getattr(state, "jobs", None)
    if found is None:
        raise DomainError("service_unavailable", "任务登记不可用 / the job registry is not reachable", 503)
    return found


async def _visible(edge: ReadEdge, job_id: str) -> dict:
    record = await registry(edge.state).get(edge.county, job_id)
    if record is None:
        raise DomainError("job_not_found", f"任务 {job_id} 不存在（或已过一周） / job {job_id} not found "
                          "(records are kept for a week)", 404)
    if not jobs.visible(edge.actor, record):
        raise forbidden("无权查看本乡镇（本支部）以外的任务 / a job asked from outside your township or branch")
    return jobs.presented(record)


@router.get("", response_model=jobs.JobList, summary="任务列表 / the county's jobs, newest first")
async def list_jobs(edge: ReadEdge, limit: Annotated[int, Query(ge=1, le=500, description="at most this many")] = 50
                    ) -> Any:
    """Jobs of the last week the caller may see (rebuilds, imports answered with 202)."""
    records = await registry(edge.state).list(edge.county)
    return {"items": [jobs.presented(r) for r in records if jobs.visible(edge.actor, r)][:limit]}


@router.get("/{job_id}", response_model=jobs.JobView, responses=problems(403, 404),
            summary="任务状态 / a job: state, progress (done, total, rate, ETA), errors, result")
async def get_job(edge: ReadEdge, job_id: JobPath) -> Any:
    """Poll it until `state` is no longer `running`: `succeeded` carries the command's answer in `result`
    (and `result_link` where there is something to download), `failed` the refusal in `error` (the same
    problem the synchronous request would have answered), `lost` a job whose instance stopped."""
    return await _visible(edge, job_id)


@router.get("/{job_id}/result.xlsx", response_class=Response, responses={**XLSX_RESPONSES, **problems(403, 404, 409)},
            summary="任务结果工作簿 / the result workbook of a 积分表 import run as a job")
async def job_result_workbook(edge: ReadEdge, job_id: JobPath) -> Response:
    """One row per sheet row with its outcome (the refused ones with their reasons), as the synchronous
    import answers with `Accept: <xlsx>`; for a succeeded 积分表 import only."""
    job = await _visible(edge, job_id)
    if job["kind"] != "gateway.import_scores" or job["state"] != "succeeded":
        raise DomainError("no_result_workbook", "该任务没有结果工作簿 / this job has no result workbook (a 积分表 "
                          f"import that succeeded has one; this is {job['kind']}, {job['state']})", 409)
    data = await asyncio.to_thread(score_sheet.result_workbook, job["result"]["rows"])
    return Response(data, media_type=XLSX, headers={
        "Content-Disposition": content_disposition("积分表导入结果.xlsx", "score-import-result.xlsx")})
