"""Settings from DANGJIAN_* environment variables (documented in README.md, "Configuration")."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DANGJIAN_", extra="ignore")

    nats_url: str | None = Field(None, description="External NATS server; unset = start an embedded nats-server")
    data_dir: Path = Field(Path("var"), description="JetStream store, SQLite read-models, generated secret")
    database_url: str | None = Field(None, description="SQLAlchemy URL for read-models; unset = SQLite per service")
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    nats_port: int = Field(0, description="Port of the embedded nats-server (0 = a free loopback port, recorded in data_dir/runtime.json)")
    jwt_secret: str | None = Field(None, description="HS256 key; unset = generated once into data_dir")
    jwt_ttl_hours: int = 12
    sync_always: bool = Field(True, description="Embedded server fsyncs every write (sync_interval: always)")
    stream_replicas: int = Field(1, ge=1, le=5, description="JetStream replicas of each county stream")
    command_retries: int = Field(5, ge=1, description="Optimistic-concurrency retries before a 409")
    request_timeout_s: float = 10.0
    handler_concurrency: int = Field(256, ge=1, le=10_000, description="Messages a service instance handles at once per command or query subject (more in flight = bigger group commits)")
    read_your_writes_timeout_s: float = 5.0
    serve_requests: bool = Field(True, description="Answer this service's commands and queries (false: a projections-only instance)")
    run_projections: bool = Field(True, description="Run read-model projections when this instance holds their lease (false: a commands-and-queries-only instance)")
    lease_ttl_s: float = Field(10.0, ge=1.0, description="A projection lease nobody renews expires after this; a standby instance then takes over")
    log_level: str = "INFO"

    def database_url_for(self, service: str) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / f'{service}.sqlite').resolve()}"

    def secret(self) -> str:
        if self.jwt_secret:
            return self.jwt_secret
        path = self.data_dir / "jwt-secret"
        if not path.exists():
            import secrets

            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()


@lru_cache
def get_settings() -> Settings:
    return Settings()
