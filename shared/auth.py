"""Actors, roles and scopes; bearer tokens are EdDSA (Ed25519) JWTs, PyJWT with a fixed algorithm list.

Only the holder of the signing key (the CLI / launcher, shared/credentials.py) mints tokens; the
gateway and the services hold the public key. The gateway forwards the caller's token with every
command and query and the service verifies it again, so the actor a service acts for is the one the
token names — not a claim any publisher could write (docs/decisions/012-nats-access.md).
"""
from __future__ import annotations

import time
from collections import OrderedDict
from datetime import UTC, datetime, timedelta
from typing import Literal

import jwt
from cryptography.hazmat.primitives import serialization
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from shared.envelope import Metadata

Role = Literal["platform_admin", "province_admin", "county_admin", "township_operator", "branch_secretary", "auditor"]
ALGORITHMS = ["EdDSA"]
COUNTY_DEPARTMENT = frozenset({"county_admin", "platform_admin"})  # 县委组织部 (and the province above it)
COUNTY_WIDE_READERS = COUNTY_DEPARTMENT | {"auditor", "province_admin"}  # province: rollups only (in_county)
PROVINCE_READERS = frozenset({"platform_admin", "province_admin"})
ISSUER = "dangjian"
MAX_TTL = timedelta(days=30)      # default bound of a token's lifetime (Settings.jwt_max_ttl_hours)
CLOCK_SKEW_S = 2  # seconds of clock difference tolerated between the minting and the verifying host


class Actor(BaseModel):
    """Who acts, and the county/township/branch scope the token grants."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    sub: str = Field(min_length=1, max_length=80, description="user id / login")
    role: Role
    county: str | None = Field(None, pattern=r"^[1-9]\d{5}$")
    township: str | None = None
    branch: str | None = None
    scope_prefix: str | None = Field(None, pattern=r"^[1-9]\d{1,5}$",
                                     description="province_admin: the counties whose division code starts with it")
    _token: str | None = PrivateAttr(None)       # the verified bearer token (forwarded to services)
    _issued_at: float | None = PrivateAttr(None)
    _expires_at: float | None = PrivateAttr(None)

    @property
    def token(self) -> str | None:
        return self._token

    @property
    def issued_at(self) -> float | None:
        return self._issued_at

    @property
    def can_write(self) -> bool:
        return self.role != "auditor"

    def in_county(self, county: str) -> bool:
        """County endpoints: a province_admin has none (it reads rollups, README: Provincial rollups)."""
        return self.role == "platform_admin" or self.county == county

    def covers(self, county: str) -> bool:
        """Rollups: a platform admin every county, a province admin those under its division-code prefix."""
        return self.role == "platform_admin" or (
            self.role == "province_admin" and self.scope_prefix is not None and county.startswith(self.scope_prefix))

    @property
    def sees_whole_county(self) -> bool:
        """The county department and auditors read everything of their county (README: Read rules)."""
        return self.role in COUNTY_WIDE_READERS

    def sees(self, township: str | None, branch: str | None = None) -> bool:
        """Read scope of one thing of the county: belonging to `township`, held by the organization
        `branch` (an organization itself, a member's branch, a case's or unit's organization). A
        township operator reads what belongs to their township, a branch secretary what their branch
        holds; unknown ownership is outside both."""
        if self.role == "township_operator":
            return township is not None and township == self.township
        if self.role == "branch_secretary":
            return branch is not None and branch == self.branch
        return True

    def metadata(self, correlation_id: str | None = None) -> Metadata:
        label = f"{self.role}:{self.sub}"
        return Metadata(actor=label, correlation_id=correlation_id) if correlation_id else Metadata(actor=label)


# The actor of a public request (sign-in): read-only and in no county; public handlers never authorize by it.
ANONYMOUS = Actor(sub="anonymous", role="auditor")


class InvalidToken(Exception):
    pass


def _private_key(pem: str):
    try:
        return serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError):
        raise InvalidToken("the signing key is not an Ed25519 private key in PEM") from None


def _public_key(pem: str):
    """A public key PEM, or the public half of a private key PEM (tests hold only the signing key)."""
    if "PRIVATE KEY" in pem:
        return _private_key(pem).public_key()
    try:
        return serialization.load_pem_public_key(pem.encode())
    except (ValueError, TypeError):
        raise InvalidToken("the verification key is not an Ed25519 public key in PEM") from None


def issue_token(signing_key: str, actor: Actor, ttl: timedelta = timedelta(hours=12)) -> str:
    now = datetime.now(UTC)
    # fractional seconds: a token minted right after a revocation (sign-out, then sign-in) is newer than it
    claims = {**actor.model_dump(exclude_none=True), "iss": ISSUER, "iat": now.timestamp(),
              "exp": (now + ttl).timestamp()}
    return jwt.encode(claims, _private_key(signing_key), algorithm=ALGORITHMS[0])


def verify_token(verify_key: str, token: str, max_ttl: timedelta = MAX_TTL) -> Actor:
    """The actor a token names, once its signature, issuer, expiry and lifetime are checked: a token
    whose lifetime (exp - iat) exceeds `max_ttl`, or issued in the future, is refused."""
    key = verify_key if not isinstance(verify_key, str) else _public_key(verify_key)
    try:
        claims = jwt.decode(token, key, algorithms=ALGORITHMS, issuer=ISSUER, leeway=CLOCK_SKEW_S,
                            options={"require": ["exp", "iat", "iss", "sub"]})
    except jwt.PyJWTError as exc:
        raise InvalidToken(str(exc)) from None
    iat, exp = claims["iat"], claims["exp"]
    if not isinstance(iat, (int, float)) or not isinstance(exp, (int, float)):
        raise InvalidToken("iat and exp must be numbers")
    if exp - iat > max_ttl.total_seconds():
        raise InvalidToken(f"token lifetime exceeds the maximum of {max_ttl.total_seconds() / 3600:g} h")
    try:
        actor = Actor.model_validate({k: v for k, v in claims.items() if k not in {"iss", "iat", "exp"}})
    except ValidationError as exc:
        raise InvalidToken(f"token claims invalid: {exc.errors()[0]['msg']}") from None
    actor._token, actor._issued_at, actor._expires_at = token, float(iat), float(exp)
    return actor


class TokenVerifier:
    """verify_token with the key parsed once and verified tokens remembered until they expire: an
    Ed25519 check costs ~0.1-0.5 ms here, and a client sends the same token with many requests."""

    def __init__(self, verify_key: str, max_ttl: timedelta = MAX_TTL, cache_size: int = 10_000):
        self.key = _public_key(verify_key)
        self.max_ttl = max_ttl
        self.cache_size = cache_size
        self._cache: OrderedDict[str, tuple[Actor, float]] = OrderedDict()

    def actor(self, token: str) -> Actor:
        hit = self._cache.get(token)
        if hit is not None and hit[1] > time.time():
            return hit[0]
        actor = verify_token(self.key, token, self.max_ttl)
        check_scope(actor)
        self._cache[token] = (actor, actor._expires_at)
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return actor


def check_scope(actor: Actor, role_required: bool = True) -> None:
    """Roles that need a scope must carry it (a township operator without a township is refused)."""
    if actor.role in {"county_admin", "township_operator", "branch_secretary", "auditor"} and not actor.county:
        raise InvalidToken(f"role {actor.role} needs a county")
    if actor.role == "township_operator" and not actor.township:
        raise InvalidToken("township_operator needs a township")
    if actor.role == "branch_secretary" and not actor.branch:
        raise InvalidToken("branch_secretary needs a branch")
    if actor.role == "province_admin" and (not actor.scope_prefix or actor.county):
        raise InvalidToken("province_admin needs a scope_prefix (division-code prefix, e.g. 45) and no county")
