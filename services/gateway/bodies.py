"""Request bodies derived from the services' command models, so OpenAPI documents exactly what the
services validate — and validation happens once per edge: FastAPI validates the HTTP body here, the service
validates the whole command once more (`Request[Model]`, shared/messaging.py) — its own edge.

Where the URL carries part of a command (a year, a member id), the body model is the command minus those
fields (`without`), with the command's field validators; `command` merges the path values in without
validating again. A refusal the body model could not see (a model-wide rule) comes back from the service
and is named where the value came from ("path.year", "header.Idempotency-Key", else "body.<field>")."""
from __future__ import annotations

import copy
import inspect
from typing import Any

from pydantic import BaseModel, create_model, field_validator
from pydantic_core import PydanticUndefined, to_jsonable_python

from services.gateway.problems import invalid_input
from shared.errors import DomainError, FieldError


class Command(dict):
    """A command's data, JSON-ready, that remembers where each top-level value came from when it was not
    the body (`origins`), so the service's field errors can be named for the client."""

    origins: dict[str, str]

    def field(self, name: str) -> str:
        """Where a service's field error (e.g. "points", "slots.0.red") points in the HTTP request."""
        top, dot, rest = name.partition(".")
        return self.origins[top] + dot + rest if top in self.origins else f"body.{name}"

    def refusal(self, error: DomainError) -> DomainError:
        """The service's 422 for invalid input, with its fields named for the HTTP request."""
        if error.code != "invalid_input":
            return error
        return DomainError(error.code, error.detail, error.status,
                           [FieldError(self.field(e.field), e.message) for e in error.errors])


def without(model: type[BaseModel], name: str, drop: set[str], optional: set[str] = frozenset(),
            doc: str | None = None) -> type[BaseModel]:
    """The command minus the fields the URL carries (`drop`), some required ones made optional (their
    value may come from a header), with the command's field validators of the fields it keeps."""
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
    validators = {}
    for attr, decorator in model.__pydantic_decorators__.field_validators.items():
        kept = [f for f in decorator.info.fields if f in fields]
        if kept:
            fn = decorator.func
            fn = classmethod(fn.__func__) if inspect.ismethod(fn) else fn  # bound to the command class
            validators[attr] = field_validator(*kept, mode=decorator.info.mode)(fn)
    return create_model(name, __config__=model.model_config, __doc__=doc or model.__doc__,
                        __module__=model.__module__, __validators__=validators, **fields)


def command(model: type[BaseModel], data: dict[str, Any], origins: dict[str, str] | None = None) -> Command:
    """The command's data for the service: the validated body merged with values from the path or headers
    (`origins`: field -> "path.year" ...), defaults filled in, JSON-ready. Not validated again (the service
    does): only a required value that neither the body nor the path gave is refused here."""
    missing = [f for f, info in model.model_fields.items() if info.is_required() and f not in data]
    if missing:
        origins = origins or {}
        raise invalid_input([FieldError(origins.get(f, f"body.{f}"), "Field required") for f in missing])
    out = Command()
    for field, info in model.model_fields.items():
        if field in data:
            out[field] = to_jsonable_python(data[field])
        elif info.default is not PydanticUndefined or info.default_factory is not None:
            out[field] = to_jsonable_python(info.get_default(call_default_factory=True))
    out.update((k, to_jsonable_python(v)) for k, v in data.items() if k not in model.model_fields)
    out.origins = dict(origins or {})
    return out
