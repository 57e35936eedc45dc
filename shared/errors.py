"""Domain errors carry what the gateway needs for a problem+json answer (RFC 9457)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


@dataclass
class DomainError(Exception):
    """A refused command or query. `code` is stable (clients branch on it); `detail` is for people
    and may be Chinese; `errors` point at the offending input fields."""

    code: str
    detail: str
    status: int = 422
    errors: list[FieldError] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.code}: {self.detail}"

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "detail": self.detail, "status": self.status,
                "errors": [{"field": e.field, "message": e.message} for e in self.errors]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "DomainError":
        return cls(d["code"], d["detail"], d.get("status", 422),
                   [FieldError(e["field"], e["message"]) for e in d.get("errors", [])])


def invalid(code: str, field_name: str, message: str) -> DomainError:
    """422: one input field breaks a rule."""
    return DomainError(code, message, 422, [FieldError(field_name, message)])


def not_found(code: str, detail: str, field_name: str | None = None) -> DomainError:
    return DomainError(code, detail, 404, [FieldError(field_name, detail)] if field_name else [])


def conflict(code: str, detail: str) -> DomainError:
    return DomainError(code, detail, 409)


def forbidden(detail: str) -> DomainError:
    return DomainError("forbidden", detail, 403)
