"""Request bodies derived from the services' command models, so OpenAPI documents exactly what the
services validate. Where the URL carries part of a command (a year, a member id), the body model is
the command minus those fields; the full command is then re-validated with the path values merged,
so validators spanning fields (and ones dropped with the fields) still run at the edge."""
from __future__ import annotations

import copy
from typing import Any

from pydantic import BaseModel, ValidationError, create_model

from services.gateway.problems import field_errors, invalid_input


def without(model: type[BaseModel], name: str, drop: set[str], optional: set[str] = frozenset(),
            doc: str | None = None) -> type[BaseModel]:
    fields: dict[str, Any] = {}
    for field, info in model.model_fields.items():
        if field in drop:
            continue
        info = copy.copy(info)
        annotation = info.annotation
        if field in optional and info.is_required():
            annotation = annotation | None
            info.default = None
        fields[field] = (annotation, info)
    derived = create_model(name, __config__=model.model_config, __doc__=doc or model.__doc__,
                           __module__=model.__module__, **fields)
    return derived


def command(model: type[BaseModel], data: dict[str, Any], origins: dict[str, str] | None = None) -> dict[str, Any]:
    """Validate the merged command; errors point at where the value came from ("path.year",
    "header.Idempotency-Key", else "body.<field>"). Returns JSON-ready data for the service."""
    try:
        cmd = model.model_validate(data)
    except ValidationError as exc:
        errors = []
        for fe, raw in zip(field_errors(exc.errors(), ("body",)), exc.errors(), strict=True):
            top = str(raw["loc"][0]) if raw["loc"] else ""
            if origins and top in origins:
                fe = type(fe)(origins[top], fe.message)
            errors.append(fe)
        raise invalid_input(errors) from None
    return cmd.model_dump(mode="json")
