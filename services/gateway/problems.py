"""Every error the gateway answers is application/problem+json (RFC 9457), with a stable `code`
clients can branch on and field-level `errors` a form can show next to its inputs."""
from __future__ import annotations

from collections.abc import Iterable
from http import HTTPStatus
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError, ResponseValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError
from starlette.exceptions import HTTPException

from shared.errors import DomainError, FieldError

log = structlog.get_logger(__name__)
PROBLEM_BASE = "https://dangjian.example/problems/"
PROBLEM_JSON = "application/problem+json"

# HTTPExceptions raised by routing / starlette carry only a status; give them stable codes.
CODES = {400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
         405: "method_not_allowed", 406: "not_acceptable", 409: "conflict", 413: "payload_too_large",
         415: "unsupported_media_type", 422: "invalid_input", 429: "too_many_requests",
         500: "internal_error", 502: "bad_gateway", 503: "service_unavailable"}


class ProblemFieldError(BaseModel):
    field: str = Field(description='where, e.g. "body.points" or "path.year"')
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details plus `code` and field `errors`."""

    type: str = Field(examples=[PROBLEM_BASE + "invalid_input"])
    title: str
    status: int
    detail: str
    code: str
    errors: list[ProblemFieldError] = []


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def problem(status: int, code: str, detail: str, errors: Iterable[FieldError] = (),
            headers: dict[str, str] | None = None) -> JSONResponse:
    body = {"type": PROBLEM_BASE + code, "title": _phrase(status), "status": status, "detail": detail,
            "code": code, "errors": [{"field": e.field, "message": e.message} for e in errors]}
    headers = dict(headers or {})
    if status == 401:
        headers.setdefault("WWW-Authenticate", 'Bearer realm="dangjian"')
    if status == 503:
        headers.setdefault("Retry-After", "5")
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def _loc(loc: Iterable[Any]) -> str:
    return ".".join(str(p) for p in loc)


def field_errors(errors: list[dict[str, Any]], prefix: tuple[str, ...] = ()) -> list[FieldError]:
    """pydantic error dicts → FieldErrors; a JSON syntax error points at the body, not a char offset."""
    out = []
    for e in errors:
        if e.get("type") == "json_invalid":
            reason = (e.get("ctx") or {}).get("error", "")
            out.append(FieldError("body", f"JSON 格式错误 / invalid JSON: {reason}".rstrip(": ")))
        else:
            out.append(FieldError(_loc((*prefix, *e["loc"])) or "body", e["msg"]))
    return out


def invalid_input(errors: list[FieldError]) -> DomainError:
    return DomainError("invalid_input", "输入有误 / invalid input", 422, errors)


async def _on_validation(_: Request, exc: RequestValidationError) -> JSONResponse:
    err = invalid_input(field_errors(list(exc.errors())))
    return problem(422, err.code, err.detail, err.errors)


async def _on_pydantic(_: Request, exc: ValidationError) -> JSONResponse:
    err = invalid_input(field_errors(exc.errors(), ("body",)))
    return problem(422, err.code, err.detail, err.errors)


async def _on_bad_answer(request: Request, exc: ResponseValidationError) -> JSONResponse:
    """A service answered data that breaks its declared reply model: its bug, not the client's."""
    log.error("gateway.reply_breaks_contract", path=request.url.path, errors=str(exc.errors())[:2000])
    return problem(502, "bad_gateway", "服务应答不符合接口约定 / the service's answer does not match its contract")


async def _on_domain(_: Request, exc: DomainError) -> JSONResponse:
    return problem(exc.status, exc.code, exc.detail, exc.errors)


async def _on_http(_: Request, exc: HTTPException) -> JSONResponse:
    status = exc.status_code
    detail = exc.detail if isinstance(exc.detail, str) else _phrase(status)
    return problem(status, CODES.get(status, f"http_{status}"), detail, headers=exc.headers)


def internal_error() -> JSONResponse:
    return problem(500, "internal_error", "内部错误，已记录 / internal error (logged)")


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(ValidationError, _on_pydantic)
    app.add_exception_handler(ResponseValidationError, _on_bad_answer)
    app.add_exception_handler(DomainError, _on_domain)
    app.add_exception_handler(HTTPException, _on_http)


PROBLEM_DESCRIPTIONS = {400: "malformed request", 401: "missing or invalid bearer token",
                        403: "outside the token's county, or a read-only role", 404: "not found",
                        409: "conflicts with the current state (e.g. a closed year, a reused idempotency key)",
                        413: "request too large", 422: "invalid input, one entry per field",
                        423: "account locked after repeated failed sign-ins",
                        503: "the service behind this route is unavailable"}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these statuses, each a problem+json body (Problem)."""
    return {status: {"model": Problem, "description": PROBLEM_DESCRIPTIONS[status]} for status in statuses}


PROBLEM_RESPONSES = problems(401, 403, 422, 503)  # every /api/v1 route: add the ones a route adds (404, 409 ...)


def openapi_with_problems(app: FastAPI) -> Any:
    """FastAPI documents `responses` models as application/json; a Problem is application/problem+json."""
    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = FastAPI.openapi(app)
        for path in schema.get("paths", {}).values():
            for operation in path.values():
                for status, response in operation.get("responses", {}).items():
                    content = response.get("content", {})
                    ref = content.get("application/json", {}).get("schema", {}).get("$ref", "")
                    if status.isdigit() and int(status) >= 400 and ref.endswith("/Problem"):
                        content[PROBLEM_JSON] = content.pop("application/json")
        schema.get("components", {}).get("schemas", {}).pop("HTTPValidationError", None)
        schema.get("components", {}).get("schemas", {}).pop("ValidationError", None)
        app.openapi_schema = schema
        return schema
    return openapi
