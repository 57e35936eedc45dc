"""Imports (党员, 两新组织) with upload progress, the errors of a refused file in a downloadable
workbook, and the Excel templates to fill in. The upload goes to the same service command as the API's
import; all or nothing, as there."""
from __future__ import annotations

import asyncio
import base64

from fastapi import APIRouter, Request
from starlette.datastructures import UploadFile
from fastapi.responses import JSONResponse, Response

from services.gateway import score_sheet
from services.gateway.files import XLSX, content_disposition, upload_data
from services.gateway.pages.i18n import chinese
from services.gateway.pages.web import SignInNeeded, check_form, county_page, edge_for, render, to_login
from services.gateway.pages.workbooks import TEMPLATES, error_workbook, template
from services.gateway.routes.scores import import_sheet
from shared.errors import DomainError

router = APIRouter()
COMMANDS = {"members": "import_members", "enterprises": "import_enterprises", "scores": "scores"}
TEMPLATE_URLS = {"scores": "/api/v1/counties/{county}/scores/import/template"}  # the API's own template


@router.get("/counties/{county}/imports")
async def imports(request: Request, county: str) -> Response:
    try:
        actor, denied = county_page(request, county)
    except SignInNeeded:
        return to_login(request)
    templates = {k: TEMPLATE_URLS.get(k, "/counties/{county}/imports/templates/" + k + ".xlsx").format(county=county)
                 for k in COMMANDS}
    return denied or render(request, "imports.html", actor=actor, county=county, kinds=list(COMMANDS),
                            templates=templates)


@router.get("/counties/{county}/imports/templates/{kind}.xlsx")
async def import_template(request: Request, county: str, kind: str) -> Response:
    if kind not in TEMPLATES:
        return Response(status_code=404)
    try:
        _, denied = county_page(request, county)
    except SignInNeeded:
        return to_login(request)
    if denied:
        return denied
    filename, content = template(kind)
    return Response(content, media_type=XLSX, headers={"Content-Disposition": content_disposition(filename, f"{kind}.xlsx")})


@router.post("/counties/{county}/imports/{kind}")
async def run_import(request: Request, county: str, kind: str) -> Response:
    """Answers JSON for the page's script: what was imported, or each error (Chinese) and the error workbook."""
    if kind not in COMMANDS:
        return Response(status_code=404)
    try:
        actor, denied = county_page(request, county)
    except SignInNeeded:
        return JSONResponse({"ok": False, "detail": "请重新登录 / sign in again"}, status_code=401)
    if denied:
        return JSONResponse({"ok": False, "detail": "无权访问 / outside your scope"}, status_code=403)
    form = await request.form()
    check_form(request, form)
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        return JSONResponse({"ok": False, "detail": "请选择文件 / choose a file", "errors": []}, status_code=422)
    data = None
    if kind == "scores":
        return await _score_sheet(request, actor, county, upload)
    try:
        data = await upload_data(upload)
        reply = await edge_for(request, actor, county).write("organizations", COMMANDS[kind], data)
    except DomainError as exc:
        errors = [{"field": e.field, "message": e.message} for e in exc.errors]
        body = {"ok": False, "detail": chinese(exc.detail),
                "errors": [{"field": e["field"], "message": chinese(e["message"])} for e in errors]}
        if errors and data is not None:
            content = base64.b64decode(data["content_b64"])
            body["workbook_b64"] = base64.b64encode(error_workbook(data["filename"], content, errors)).decode()
        return JSONResponse(body, status_code=exc.status)
    return JSONResponse({"ok": True, "imported": reply["imported"], "already_imported": reply["already_imported"]})


async def _score_sheet(request: Request, actor, county: str, upload: UploadFile) -> Response:
    """积分表: each row stands alone (the API's import); refused rows come back in place and in its result
    workbook, the recorded ones stay recorded."""
    try:
        result = await import_sheet(edge_for(request, actor, county), upload)
    except DomainError as exc:
        return JSONResponse({"ok": False, "detail": chinese(exc.detail), "errors": [
            {"field": e.field, "message": chinese(e.message)} for e in exc.errors]}, status_code=exc.status)
    refused = [r for r in result["rows"] if not r["ok"]]
    body = {"ok": not refused, "imported": result["recorded"], "already_imported": result["replayed"],
            "detail": f"{result['refused']} 行未导入，其余已导入 / {result['refused']} rows refused, the others recorded",
            "errors": [{"field": f"row {r['row']}: {e['field']}", "message": chinese(e["message"])}
                       for r in refused for e in (r["error"] or {}).get("errors", [])]}
    if refused:
        workbook = await asyncio.to_thread(score_sheet.result_workbook, result["rows"])
        body["workbook_b64"] = base64.b64encode(workbook).decode()
    return JSONResponse(body)
