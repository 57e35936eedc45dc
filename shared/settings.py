"""Settings from DANGJIAN_* environment variables (documented in README.md, "Configuration")."""
from __future__ import annotations

import json
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

NATS_SCHEMES = ("nats://", "tls://", "ws://", "wss://")


def nats_servers(value: str | list[str] | tuple[str, ...]) -> list[str]:
    """One or several NATS URLs: a list, a JSON list, or a string separated by commas or spaces
    (`nats://nats-1:4222,nats://nats-2:4222`). nats-py wants a list: a comma-joined string makes it
    fail with "invalid connect url option"."""
    if isinstance(value, str):
        text = value.strip()
        items = json.loads(text) if text.startswith("[") else text.replace(",", " ").split()
    else:
        items = list(value)
    urls = [str(u).strip() for u in items if str(u).strip()]
    bad = [u for u in urls if not u.startswith(NATS_SCHEMES)]
    if bad:
        raise ValueError(f"not a NATS URL (nats://host:port): {', '.join(bad)}")
    return urls


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DANGJIAN_", extra="ignore")

    nats_url: Annotated[list[str] | None, NoDecode] = Field(
        None, description="External NATS server(s): one URL or several (a cluster), comma-separated or a JSON list; "
                          "unset = start an embedded nats-server")
    data_dir: Path = Field(Path("var"), description="JetStream store, SQLite read-models, generated secret")
    database_url: str | None = Field(None, repr=False, description="SQLAlchemy URL for read-models; unset = SQLite per service")
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    nats_port: int = Field(0, description="Port of the embedded nats-server (0 = a free loopback port, recorded in data_dir/runtime.json)")
    credentials_dir: Path | None = Field(None, description="NATS nkeys and token keys (shared/credentials.py); unset = data_dir/credentials, generated on first start")
    nats_user: str | None = Field(None, description="connect to NATS as this component instead of the service's own name (tests of ad-hoc services)")
    jwt_signing_key: SecretStr | None = Field(None, description="Ed25519 private key (PEM) that signs tokens; unset = credentials_dir/jwt-signing.pem")
    jwt_ttl_hours: int = Field(12, ge=1, description="lifetime of tokens `dangjian token` issues by default")
    jwt_max_ttl_hours: int = Field(720, ge=1, description="tokens whose lifetime (exp - iat) is longer are refused")
    first_token_ttl_minutes: int = Field(60, ge=1, le=24 * 60, description="lifetime of the admin token `start` hands out")
    sync_always: bool = Field(True, description="Embedded server fsyncs every write (sync_interval: always)")
    stream_replicas: int = Field(1, ge=1, le=5, description="JetStream replicas of each county stream")
    command_retries: int = Field(5, ge=1, description="Optimistic-concurrency retries before a 409")
    request_timeout_s: float = 10.0
    handler_concurrency: int = Field(256, ge=1, le=10_000, description="Requests a service instance answers at once, all subjects together (more in flight = bigger group commits)")
    event_loop: Literal["uvloop", "asyncio"] = Field("uvloop", description="event loop of `dangjian start` (uvloop: less CPU per message; asyncio: the standard library's)")
    http_parser: Literal["httptools", "h11"] = Field("httptools", description="HTTP parser of the gateway's uvicorn (httptools: C; h11: pure Python)")
    read_your_writes_timeout_s: float = 5.0
    serve_requests: bool = Field(True, description="Answer this service's commands and queries (false: a projections-only instance)")
    run_projections: bool = Field(True, description="Run read-model projections when this instance holds their lease (false: a commands-and-queries-only instance)")
    lease_ttl_s: float = Field(10.0, ge=1.0, description="A projection lease nobody renews expires after this; a standby instance then takes over")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = Field(
        "INFO", description="lowest level logged (DEBUG, INFO, WARNING, ERROR)")
    log_format: Literal["console", "json"] = Field(
        "console", description="console: readable lines (development); json: one JSON object per line (production)")
    metrics_host: str = Field("127.0.0.1", description="address of this process's status port (/metrics, /healthz)")
    metrics_port: int = Field(0, ge=0, le=65535, description="status port of this process (/metrics for Prometheus, /healthz for a container healthcheck); 0 = none")
    webhook_allow_private_hosts: bool = Field(False, description="Let webhook and robot URLs reach loopback/private addresses (tests, an intranet relay); refused by default against SSRF")
    sse_ping_s: float = Field(15.0, gt=0, le=300, description="Seconds between SSE heartbeat comments on the live notification feed")

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value):
        return value.upper() if isinstance(value, str) else value

    @field_validator("nats_url", mode="before")
    @classmethod
    def _several_urls(cls, value):
        if value is None or value == "":
            return None
        return nats_servers(value) or None

    @property
    def nats_address(self) -> str | None:
        """The servers as one display string (runtime.json, logs); connect with nats_servers()."""
        return ",".join(self.nats_url) if self.nats_url else None

    def database_url_for(self, service: str) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / f'{service}.sqlite').resolve()}"

    @property
    def credentials_path(self) -> Path:
        return self.credentials_dir or self.data_dir / "credentials"

    def keyring(self):
        from shared.credentials import Keyring

        return Keyring(self.credentials_path)

    def secret(self) -> str:
        """The token signing key (PEM): only the CLI and the launcher use it; generated on first use."""
        if self.jwt_signing_key:
            return self.jwt_signing_key.get_secret_value()
        keyring = self.keyring()
        if not (keyring.directory / "jwt-signing.pem").exists():
            keyring.ensure(components=())
        return keyring.signing_key()

    def verify_key(self) -> str:
        """The public key that verifies tokens (gateway, services); never generates anything."""
        if self.jwt_signing_key:
            from shared.credentials import verify_key_pem

            return verify_key_pem(self.jwt_signing_key.get_secret_value())
        return self.keyring().verify_key()

    @property
    def max_token_ttl(self) -> timedelta:
        return timedelta(hours=self.jwt_max_ttl_hours)


@lru_cache
def get_settings() -> Settings:
    return Settings()
