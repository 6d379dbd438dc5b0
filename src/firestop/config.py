"""Runtime configuration, read from the environment (``FIRESTOP_*``) and CLI flags."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything Firestop needs to start; the defaults give the embedded set-up."""

    model_config = SettingsConfigDict(env_prefix="FIRESTOP_", extra="ignore")

    data_dir: Path = Field(default=Path(".firestop"), description="SQLite database, vault")
    database_url: str | None = Field(
        default=None, description="PostgreSQL URL; when unset the embedded SQLite is used"
    )
    policy: Path | None = Field(default=None, description="organisation policy YAML")
    host: str = "127.0.0.1"
    port: int = 8000
    # Session cookies are marked Secure unless the operator serves plain HTTP on loopback.
    secure_cookies: bool = False
    session_hours: int = 12
    report_max_bytes: int = 16_384
    report_rate_per_minute: int = 10
    login_attempts_per_minute: int = 10
    import_max_bytes: int = 5_000_000
    # Telemetry batches (native, OTLP, metrics, alerts), measured after gzip is undone.
    ingest_max_bytes: int = 32_000_000
    # Telemetry batches worked on at once in each server process; the rest wait their turn.
    # Ingest is CPU work under one interpreter lock (and, on SQLite, one write lock): batches
    # run side by side only take turns slower, and the last ones wait longest.
    ingest_concurrency: int = Field(default=1, ge=1, le=64)
    # How often retention runs in each server process (seconds); 0 turns it off.
    maintenance_interval: float = 3600.0
    # Server processes only (``firestop serve`` sets it): once started, keep the long-lived
    # heap out of the garbage collector's way (see ``firestop.gctune``).
    tune_gc: bool = False

    @property
    def is_embedded(self) -> bool:
        return self.database_url is None

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url is None:
            return f"sqlite:///{(self.data_dir / 'firestop.db').resolve()}"
        url = self.database_url
        # Plain postgres URLs are accepted and pointed at the psycopg 3 driver.
        for prefix in ("postgresql://", "postgres://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url[len(prefix) :]
        return url


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
