"""Scores in bulk → the ratings service's record_scores: the JSON batch of integrations and the 积分表
import of township operators (services/gateway/score_sheet.py reads and writes the sheets).

A batch may hold up to 10,000 entries; the gateway sends them as requests of 1,000 (the service's unit:
one atomic batch each), a few in flight, and answers one result per entry in the order sent. Every entry
is a record_score on its own — same validation, scope and idempotency — so a refused entry refuses only
itself and sending the same batch again records nothing twice (each entry answers `replayed`)."""
from __future__ import annotations

import asyncio
import base64
from typing import Annotated, Any

from fastapi import APIRouter, File, Header, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from services.gateway import score_sheet
from services.gateway.edge import SEQ_HEADER, ReadEdge, WriteEdge
from services.gateway.files import (JOB_RESPONSES, LARGE_IMPORT_BYTES, RESPOND_ASYNC, XLSX, XLSX_RESPONSES,
                                    content_disposition, upload_data)
from services.gateway.params import PreferHeader
from services.gateway.routes.jobs import registry
from services.gateway.problems import PROBLEM_RESPONSES, invalid_input
from services.ratings.replies import EntryRefusal, EntryResult
from shared import jobs
from shared.errors import DomainError, FieldError

SERVICE = "ratings"
PER_REQUEST = 1_000   # entries per record_scores request (one atomic batch in the service)
IN_FLIGHT = 4         # record_scores requests of one batch at a time
MAX_ENTRIES = 10_000
BATCH_TIMEOUT_S = 60.0  # a request of 1,000 entries is one atomic batch of 1,000 events: slower than one score
router = APIRouter(prefix="/api/v1/counties/{county}", tags=["ratings"], responses=PROBLEM_RESPONSES)


class ScoreBatch(BaseModel):
    """积分表 as JSON: each entry has the fields of a single score plus whom it is for."""

    model_config = ConfigDict(extra="forbid")
    scores: list[dict[str, Any]] = Field(
        min_length=1, max_length=MAX_ENTRIES,
        description="up to 10,000 entries, each {rated_kind (member|organization), rated_id, year, category, "
                    "points, reason, evidence_ref?, occurred_on, idempotency_key}")


class ScoreBatchResult(BaseModel):
    """One result per entry, in the order sent; `seq` for reading the batch back (Dangjian-Min-Seq)."""

    results: list[EntryResult] = Field(description="one per entry; refused entries carry their error")
    recorded: int = Field(description="entries recorded now")
    replayed: int = Field(description="entries already recorded with the same idempotency key and content")
    refused: int = Field(description="entries refused")
    seq: int = Field(description="stream sequence of the last write; send it as Dangjian-Min-Seq to read it back")


class ScoreRowResult(BaseModel):
    """The outcome of one row of an uploaded 积分表."""

    row: int = Field(description="row number in the sheet (the header is row 1)")
    ok: bool = Field(description="true: recorded (or recorded before); false: `error` says why not")
    score_id: str | None = Field(None, description="id of the score entry")
    replayed: bool = Field(False, description="true when this row had been recorded before (same key and content)")
    error: EntryRefusal | None = Field(None, description="why the row was refused; `errors` name its columns")


class ScoreImportResult(BaseModel):
    """One outcome per data row. The same as a workbook: send `Accept: <xlsx media type>`."""

    rows: list[ScoreRowResult] = Field(description="one per data row, in sheet order")
    recorded: int = Field(description="rows recorded now")
    replayed: int = Field(description="rows recorded before (importing the same table again)")
    refused: int = Field(description="rows refused")
    seq: int = Field(description="stream sequence of the last write (send it as Dangjian-Min-Seq)")


async def record_entries(edge: Any, entries: list[dict[str, Any]], field_prefix: str | None = "body.scores") -> dict:
    """Sends the entries in requests of PER_REQUEST, IN_FLIGHT at a time; merges the answers in order,
    each refused entry's fields named `<field_prefix>.<index>.<field>` (left as they are without a prefix)."""
    gate = asyncio.Semaphore(IN_FLIGHT)

    done = 0

    async def chunk(start: int) -> dict:
        nonlocal done
        async with gate:
            answer = await edge.write(SERVICE, "record_scores", {"scores": entries[start:start + PER_REQUEST]},
                                      timeout=max(edge.client.timeout, BATCH_TIMEOUT_S))
        done += len(answer["results"])
        jobs.report(done, len(entries))  # a job's progress (the 积分表 import run as one)
        return answer

    answers = await asyncio.gather(*(chunk(s) for s in range(0, len(entries), PER_REQUEST))) if entries else []
    results, seq = [], 0
    for start, answer in zip(range(0, len(entries), PER_REQUEST), answers):
        seq = max(seq, answer.get("seq", 0))
        for r in answer["results"]:
            r["index"] += start
            if r.get("error") and field_prefix:
                for e in r["error"]["errors"]:
                    e["field"] = f"{field_prefix}.{r['index']}.{e['field']}"
            results.append(r)
    return {"results": results, "recorded": sum(a["recorded"] for a in answers),
            "replayed": sum(a["replayed"] for a in answers), "refused": sum(a["refused"] for a in answers),
            "seq": seq}


def nothing_recorded(refusals: list[tuple[str, dict]]) -> DomainError:
    """When every entry was refused the request as a whole is: with the entries' common status and code
    (a token outside the scope of every row is a 403, as for a single score), else 422; one field error
    per problem of each entry (`where` names the entry)."""
    statuses = {e["status"] for _, e in refusals}
    codes = {e["code"] for _, e in refusals}
    errors = [FieldError(f["field"], f["message"]) for where, e in refusals
              for f in (e["errors"] or [{"field": where, "message": e["detail"]}])]
    return DomainError(codes.pop() if len(codes) == 1 else "entries_refused",
                       "没有一条记录通过，见各条原因 / no entry was recorded; see each entry's errors",
                       statuses.pop() if len(statuses) == 1 else 422, errors)


@router.post("/scores/batch", response_model=ScoreBatchResult,
             summary="批量记分（JSON） / record up to 10,000 scores, one result each")
async def record_batch(body: ScoreBatch, edge: WriteEdge) -> dict[str, Any]:
    """Each entry is decided like a single score (validation, the caller's scope, idempotency key); the
    answer lists every entry's outcome. Sending the batch again records nothing twice. When no entry at all
    is recorded the answer is the refusal (problem+json) with each entry's errors."""
    answer = await record_entries(edge, body.scores)
    if answer["refused"] == len(body.scores):
        raise nothing_recorded([(f"body.scores.{r['index']}", r["error"]) for r in answer["results"]])
    if answer["seq"]:
        edge.response.headers["Dangjian-Seq"] = str(answer["seq"])
    return answer


@router.post("/scores/import", response_model=ScoreImportResult,
             responses={200: {"content": {XLSX: {"schema": {"type": "string", "format": "binary"}}},
                              "description": "one outcome per row (JSON, or the result workbook when asked for)"},
                        **JOB_RESPONSES},
             summary="导入积分表（CSV/Excel） / import a 积分表 (.csv or .xlsx, ≤10 MB, ≤20,000 rows)")
async def import_scores(edge: WriteEdge, file: Annotated[UploadFile, File(description=".csv 或 .xlsx，≤10 MB")],
                        accept: Annotated[str | None, Header(description="the xlsx media type: answer the result "
                                                                         "workbook instead of JSON")] = None,
                        prefer: PreferHeader = None) -> Any:
    """Each row is a score of its own (validation, the caller's scope, idempotency): a refused row refuses
    only itself. Columns as in the template (`GET …/scores/import/template`); a row without 幂等键 is keyed
    by its content, so importing the same table again records nothing twice. A file over 1 MB (or
    `Prefer: respond-async`) is checked, then answered 202 with a job (its result workbook at
    `result_link` once it succeeded)."""
    content, rows, errors = await _read_sheet(file)
    if len(content) > LARGE_IMPORT_BYTES or RESPOND_ASYNC in (prefer or "").lower():
        started = await jobs.run_here(
            registry(edge.state), edge.county, edge.actor, "gateway.import_scores", "导入积分表 / a 积分表 import",
            lambda: _record_rows(edge, rows, errors), edge.state.running_jobs,
            result_link=f"/api/v1/counties/{edge.county}/jobs/{{job_id}}/result.xlsx")
        return JSONResponse(started.model_dump(), status_code=202, headers={"Location": started.link})
    answer = await _record_rows(edge, rows, errors)
    if answer["seq"]:
        edge.response.headers[SEQ_HEADER] = str(answer["seq"])
    if accept and XLSX in accept:
        data = await asyncio.to_thread(score_sheet.result_workbook, answer["rows"])
        headers = {"Content-Disposition": content_disposition("积分表导入结果.xlsx", "score-import-result.xlsx")}
        if answer["seq"]:
            headers[SEQ_HEADER] = str(answer["seq"])
        return Response(data, media_type=XLSX, headers=headers)
    return answer


async def import_sheet(edge: Any, file: UploadFile) -> dict[str, Any]:
    """The import answered when done (the workbench's, whatever the size)."""
    _, rows, errors = await _read_sheet(file)
    return await _record_rows(edge, rows, errors)


async def _read_sheet(file: UploadFile) -> tuple[bytes, list, list]:
    upload = await upload_data(file)  # the same checks as every import (type, size, not empty)
    content = base64.b64decode(upload["content_b64"])
    rows, errors = await asyncio.to_thread(score_sheet.read_scores, upload["filename"], content)
    if not rows and any(e.row == 1 for e in errors):  # no header, missing columns, unreadable file
        raise invalid_input([FieldError("body.file" if e.field == "file" else f"file.{e.field}", e.message)
                             for e in errors])
    return content, rows, errors


async def _record_rows(edge: Any, rows: list, errors: list) -> dict[str, Any]:
    """The sheet's rows recorded (each on its own): one outcome per row, or the refusal when none was."""
    outcomes = _refused_rows(errors)
    answer = await record_entries(edge, [entry for _, entry in rows], field_prefix=None)
    for (number, _), r in zip(rows, answer["results"]):
        outcomes.append({**r, "row": number})
    outcomes.sort(key=lambda o: o["row"])
    if all(not o["ok"] for o in outcomes):
        raise nothing_recorded([(f"file.row{o['row']}", {**o["error"], "errors": [
            {**e, "field": f"file.row{o['row']}.{e['field']}"} for e in o["error"]["errors"]]}) for o in outcomes])
    return {"rows": outcomes, "recorded": answer["recorded"], "replayed": answer["replayed"],
            "refused": answer["refused"] + len({e.row for e in errors}), "seq": answer["seq"]}


def _refused_rows(errors: list) -> list[dict[str, Any]]:
    by_row: dict[int, list] = {}
    for e in errors:
        by_row.setdefault(e.row, []).append({"field": e.field, "message": e.message})
    return [{"row": row, "ok": False, "score_id": None, "replayed": False,
             "error": {"code": "invalid_input", "detail": "输入有误 / invalid input", "status": 422, "errors": errs}}
            for row, errs in by_row.items()]


@router.get("/scores/import/template", response_class=Response, responses=XLSX_RESPONSES,
            summary="积分表模板 / the 积分表 template (.xlsx)")
async def score_template(edge: ReadEdge) -> Response:
    """The columns an import reads, with one example row."""
    return Response(score_sheet.template(), media_type=XLSX,
                    headers={"Content-Disposition": content_disposition("积分表模板.xlsx", "score-template.xlsx")})
