"""Form errors shown in place, in Chinese: a Pydantic ValidationError or a service's refusal becomes
{field: message} for the template (the field a message belongs to, else "form")."""
from __future__ import annotations

from pydantic import ValidationError

from services.gateway.pages.i18n import chinese
from shared.errors import DomainError


def field_errors(exc: ValidationError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for e in exc.errors():
        field = str(e["loc"][0]) if e["loc"] else "form"
        errors.setdefault(field, chinese(e["msg"]))
    return errors


def refusal_errors(exc: DomainError) -> dict[str, str]:
    """A service's refusal: its field errors by field (the last part of "body.points"), else the detail."""
    errors = {e.field.rsplit(".", 1)[-1]: chinese(e.message) for e in exc.errors}
    return errors or {"form": chinese(exc.detail)}
