"""Actors, roles and scopes; bearer tokens are HS256 JWTs (PyJWT with a fixed algorithm list)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal

import jwt
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.envelope import Metadata

Role = Literal["platform_admin", "county_admin", "township_operator", "branch_secretary", "auditor"]
ALGORITHMS = ["HS256"]
COUNTY_DEPARTMENT = frozenset({"county_admin", "platform_admin"})  # 县委组织部 (and the province above it)
ISSUER = "dangjian"


class Actor(BaseModel):
    """Who acts, and the county/township/branch scope the token grants."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    sub: str = Field(min_length=1, max_length=80, description="user id / login")
    role: Role
    county: str | None = Field(None, pattern=r"^[1-9]\d{5}$")
    township: str | None = None
    branch: str | None = None

    @property
    def can_write(self) -> bool:
        return self.role != "auditor"

    def in_county(self, county: str) -> bool:
        return self.role == "platform_admin" or self.county == county

    def metadata(self, correlation_id: str | None = None) -> Metadata:
        label = f"{self.role}:{self.sub}"
        return Metadata(actor=label, correlation_id=correlation_id) if correlation_id else Metadata(actor=label)


class InvalidToken(Exception):
    pass


def issue_token(secret: str, actor: Actor, ttl: timedelta = timedelta(hours=12)) -> str:
    now = datetime.now(UTC)
    claims = {**actor.model_dump(exclude_none=True), "iss": ISSUER, "iat": now, "exp": now + ttl}
    return jwt.encode(claims, secret, algorithm=ALGORITHMS[0])


def verify_token(secret: str, token: str) -> Actor:
    try:
        claims = jwt.decode(token, secret, algorithms=ALGORITHMS, issuer=ISSUER,
                            options={"require": ["exp", "iat", "iss", "sub"]})
    except jwt.PyJWTError as exc:
        raise InvalidToken(str(exc)) from None
    try:
        return Actor.model_validate({k: v for k, v in claims.items() if k not in {"iss", "iat", "exp"}})
    except ValidationError as exc:
        raise InvalidToken(f"token claims invalid: {exc.errors()[0]['msg']}") from None


def check_scope(actor: Actor, role_required: bool = True) -> None:
    """Roles that need a scope must carry it (a township operator without a township is refused)."""
    if actor.role in {"county_admin", "township_operator", "branch_secretary", "auditor"} and not actor.county:
        raise InvalidToken(f"role {actor.role} needs a county")
    if actor.role == "township_operator" and not actor.township:
        raise InvalidToken("township_operator needs a township")
    if actor.role == "branch_secretary" and not actor.branch:
        raise InvalidToken("branch_secretary needs a branch")
