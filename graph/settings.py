"""Configuration from ALIF_GRAPH_* environment variables. Only `graph/` reads settings;
lower layers receive plain arguments."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ALIF_GRAPH_", env_file=".env", extra="ignore")

    env: Literal["development", "production"] = "development"
    # An embedded SQLite file: the first run needs nothing installed.
    database_url: str = "sqlite+aiosqlite:///./alif-graph.db"
    redis_url: str | None = None
    # Key material for credentials at rest and token signing; required in production.
    secret_key: str | None = None
    default_page_size: int = 20
    max_page_size: int = 100

    @property
    def is_production(self) -> bool:
        return self.env == "production"


@lru_cache
def get_settings() -> Settings:
    return Settings()
