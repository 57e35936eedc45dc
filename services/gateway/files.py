"""Files over HTTP: spreadsheet uploads (imports) forwarded base64, and workbooks the services build
(exports, answered base64) sent back as downloads with a Chinese file name (RFC 6266 / RFC 5987)."""
from __future__ import annotations

import asyncio
import base64
import binascii
from pathlib import PurePath
from typing import Any
from urllib.parse import quote

from fastapi import UploadFile
from fastapi.responses import Response

from services.gateway.edge import SEQ_HEADER, Edge
from shared.errors import DomainError, FieldError
from shared.jobs import JobStarted
from shared.print_layout import fit_to_print

MAX_IMPORT_BYTES = 10 * 1024 * 1024
IMPORT_SUFFIXES = {".csv", ".xlsx"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

XLSX_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "Excel 工作簿 / an .xlsx workbook (Content-Disposition: attachment)",
          "content": {XLSX: {"schema": {"type": "string", "format": "binary"}}}},
}


def bad_file(message: str) -> DomainError:
    return DomainError("invalid_file", message, 422, [FieldError("body.file", message)])


async def upload_data(file: UploadFile) -> dict[str, str]:
    """The service's import data for an uploaded .csv/.xlsx: {"filename", "content_b64"}."""
    filename = PurePath(file.filename or "").name
    if PurePath(filename).suffix.lower() not in IMPORT_SUFFIXES:
        raise bad_file("仅支持 .csv 或 .xlsx 文件 / only .csv or .xlsx files can be imported")
    content = await file.read(MAX_IMPORT_BYTES + 1)
    if len(content) > MAX_IMPORT_BYTES:
        raise DomainError("payload_too_large", "文件超过 10 MB / file exceeds 10 MB", 413,
                          [FieldError("body.file", "文件超过 10 MB / file exceeds 10 MB")])
    if not content:
        raise bad_file("文件为空 / the file is empty")
    return {"filename": filename, "content_b64": base64.b64encode(content).decode("ascii")}


LARGE_IMPORT_BYTES = 1024 * 1024  # ~10,000 rows of CSV, several seconds of work: above it an import is a job
RESPOND_ASYNC = "respond-async"   # RFC 7240 Prefer: a job whatever the size
JOB_RESPONSES: dict[int | str, dict[str, Any]] = {202: {"model": JobStarted, "description": (
    "a large file (over 1 MB) or `Prefer: respond-async`: the import runs as a job; poll `Location` "
    "(GET …/jobs/{job_id}) for its progress and, when done, the answer the synchronous request gives")}}


async def import_upload(edge: Edge, service: str, name: str, file: UploadFile, prefer: str | None) -> Any:
    """An import command with the uploaded file: answered when done, or 202 with a job when large."""
    data = await upload_data(file)
    if len(data["content_b64"]) * 3 // 4 > LARGE_IMPORT_BYTES or RESPOND_ASYNC in (prefer or "").lower():
        return await edge.start_job(service, name, data)
    return await edge.write(service, name, data)


def content_disposition(filename: str, fallback: str) -> str:
    """attachment with an ASCII `filename` for old clients and the UTF-8 `filename*` (RFC 5987)."""
    ascii_name = "".join(c for c in fallback if 0x20 < ord(c) < 0x7F and c not in '"\\;') or "download.xlsx"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


async def xlsx_download(edge: Edge, service: str, name: str, data: dict[str, Any], fallback: str) -> Response:
    """Run an export query (answering {"filename", "content_b64"}) and answer the workbook itself, laid
    out for print (shared/print_layout.py)."""
    reply = await edge.read(service, name, data)
    try:
        content = base64.b64decode(reply["content_b64"], validate=True)
        filename = PurePath(str(reply.get("filename") or fallback)).name
    except (KeyError, TypeError, binascii.Error, ValueError):
        raise DomainError("bad_gateway", f"{service}.{name} answered no valid file", 502) from None
    content = await asyncio.to_thread(fit_to_print, content)
    headers = {"Content-Disposition": content_disposition(filename, fallback)}
    if SEQ_HEADER in edge.response.headers:
        headers[SEQ_HEADER] = edge.response.headers[SEQ_HEADER]
    return Response(content, media_type=XLSX, headers=headers)
