"""Settings: the one place that reads the environment (prefix ``TWINVERSE_``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Deployment settings; every field can be set as ``TWINVERSE_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="TWINVERSE_", extra="ignore")

    data_dir: Path = Field(default=Path(".twinverse"), description="where the embedded store lives")
    host: str = Field(default="127.0.0.1", description="the API binds here; loopback by default")
    port: int = Field(default=8000, ge=1, le=65535)
    session_ttl_s: int = Field(default=3600, ge=60, description="lifetime of a login token")
    max_scenario_mb: int = Field(default=128, ge=1)
    snapshot_every: int = Field(
        default=50_000, ge=100, description="events between graph snapshots"
    )
    debug: bool = Field(default=False, description="show tracebacks of internal errors")

    @property
    def store_path(self) -> Path:
        return self.data_dir / "twinverse.db"
