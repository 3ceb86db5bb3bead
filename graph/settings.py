"""Configuration from ALIF_GRAPH_* environment variables. Only `graph/` reads settings;
lower layers receive plain arguments."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import SecretStr
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
    # Lifetime of an access token; the development `token` command can override it.
    access_token_ttl_seconds: int = 600
    # GraphQL limits: a request over any of them is refused before anything is read.
    max_query_depth: int = 12
    max_query_aliases: int = 30
    max_query_tokens: int = 5_000
    # Cost: one per selected field, multiplied by the page sizes of the lists around it.
    max_query_cost: int = 25_000
    # The token endpoint's rate limits: requests per minute per client and per IP address.
    auth_rate_per_client_per_minute: int = 60
    auth_rate_per_ip_per_minute: int = 30
    # Bank linking through the bank's own consent flow (OBP `my/consents/SMS`): the
    # operator's service login; the customer's bank password never reaches this service.
    bank_base_url: str | None = None
    bank_id: str = "alif.tj"
    bank_operator_username: str | None = None
    bank_operator_password: SecretStr | None = None
    bank_consumer_key: SecretStr | None = None
    # Fetched data of a customer whose consents all ended is purged after this many days.
    retention_window_days: int = 30

    @property
    def is_production(self) -> bool:
        return self.env == "production"


@lru_cache
def get_settings() -> Settings:
    return Settings()
