"""Pieces of the request/reply contracts that every context of the service uses."""
from __future__ import annotations

import base64
import copy
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, create_model, field_validator

from shared.messaging import ok

TOKEN_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
Token = Annotated[str, StringConstraints(pattern=TOKEN_PATTERN)]


class Command(BaseModel):
    """Base of every command: unknown fields refused, values frozen, text trimmed."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def blank_to_none(value: Any) -> Any:
    """An empty form field or spreadsheet cell means "not given"."""
    return None if isinstance(value, str) and not value.strip() else value


class NoParameters(BaseModel):
    """This query takes no parameters (its county is the subject's)."""

    model_config = ConfigDict(extra="forbid")


class Workbook(BaseModel):
    """An Excel workbook built by the service; the gateway answers it as a download."""

    filename: str = Field(description="文件名 / file name, e.g. 两新组织覆盖情况_450503_2026-06-30.xlsx")
    content_b64: str = Field(description="the .xlsx file, base64")


def workbook_reply(filename: str, content: bytes) -> dict:
    """The reply to an export query: the .xlsx built, base64 in a Workbook."""
    return ok(Workbook(filename=filename, content_b64=base64.b64encode(content).decode()))


class UploadedFile(BaseModel):
    """A spreadsheet forwarded by the gateway (CSV or .xlsx, at most 10 MB)."""

    model_config = ConfigDict(extra="forbid")
    filename: str = Field("upload.csv", max_length=255, description="原文件名 / the uploaded file's name")
    content_b64: str = Field("", description="the file, base64")


def body_of(command: type[BaseModel], *path_fields: str, name: str | None = None) -> type[BaseModel]:
    """The command as an HTTP body: without the fields the URL carries (the organization, unit or case
    it acts on), same name, description and validators — so 停产 or 男 are understood in the body too.
    The gateway validates the whole command again with the path's values merged."""
    fields = {f: (info.annotation, copy.copy(info)) for f, info in command.model_fields.items() if f not in path_fields}
    validators = {}
    for validator, decorator in command.__pydantic_decorators__.field_validators.items():
        kept = [f for f in decorator.info.fields if f not in path_fields]
        if kept:
            validators[validator] = field_validator(*kept, mode=decorator.info.mode)(decorator.func)
    return create_model(name or command.__name__, __config__=command.model_config, __doc__=command.__doc__,
                        __module__=command.__module__, __validators__=validators, **fields)
