"""Configuration from ALIF_GRAPH_* environment variables. Only `graph/` reads settings;
lower layers receive plain arguments."""

from __future__ import annotations

from functools import lru_cache
from ipaddress import ip_network
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url

from ledger.db import normalize_url


def web_base_url(url: str) -> str:
    """`url` if it is an http(s) base URL (a scheme, a host, no query); else ValueError."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
        raise ValueError(f"not an http(s) base URL: {url!r}")
    return url


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ALIF_GRAPH_", env_file=".env", extra="ignore")

    env: Literal["development", "production"] = "development"
    # An embedded SQLite file: the first run needs nothing installed.
    database_url: str = "sqlite+aiosqlite:///./alif-graph.db"
    # PostgreSQL: the owner role's URL, which `db upgrade` migrates with and then grants the
    # application role (database_url's user) what it needs and no more (docs/database.md).
    # Unset: migrations run with database_url.
    database_owner_url: str | None = None
    redis_url: str | None = None
    # The secret every key is derived from, one key per purpose (token signing, credentials
    # at rest, one-time codes, flow cookies: connectors/keys.py); required in production.
    secret_key: str | None = None
    # Rotation: former secret keys, comma-separated. Their keys still verify tokens, decrypt
    # credentials and check codes; they never sign or encrypt (docs/deployment.md).
    old_secret_keys: Annotated[list[str], NoDecode] = []
    default_page_size: int = 20
    max_page_size: int = 100
    # Lifetime of an access token; the development `token` command can override it.
    access_token_ttl_seconds: int = 600
    # Request bodies (GraphQL, REST, forms) over this many bytes are refused with 413 before
    # they are read (docs/api.md#limits).
    max_request_body_bytes: int = 65_536
    # GraphQL limits: a request over any of them is refused before anything is read. The
    # length (characters) is checked before the document is even lexed: whitespace and
    # comments are no tokens, so the token limit alone lets 1 MB of blanks through.
    max_query_length: int = 60_000
    # The deepest legitimate query is 9 levels deep (docs/api.md#limits).
    max_query_depth: int = 10
    max_query_aliases: int = 30
    max_query_tokens: int = 5_000
    # Trusted documents (persisted operations): on, an app's requests run only documents
    # registered for it (`alif-graph documents add`), sent by id; raw queries are refused.
    trusted_documents: bool = False
    # Directives on one field, fragment or operation, and in one document (docs/api.md).
    max_directives_per_location: int = 4
    max_query_directives: int = 50
    # Cost: one per selected field, multiplied by the page sizes of the lists around it.
    max_query_cost: int = 25_000
    # Queries over the load-carrying lists run a compiled plan instead of graphql-core's
    # field-by-field executor, with the same answers (graph/execution/); off: always the latter.
    fast_execution: bool = True
    # API rate limits (GraphQL and REST): token buckets per consent and per client, a burst
    # capacity and a refill rate in tokens per second. A GraphQL request costs its query cost,
    # so keep both capacities at or above max_query_cost.
    rate_per_consent_capacity: int = 50_000
    rate_per_consent_per_second: float = 250
    rate_per_client_capacity: int = 250_000
    rate_per_client_per_second: float = 2_500
    # Failed authentications audited per address per minute; beyond it they are only refused.
    rate_failed_auth_per_ip_per_minute: int = 60
    # Addresses or networks (CIDR) of the reverse proxies in front of the API, comma-separated:
    # only a connection from one of them may say, in X-Forwarded-For and X-Forwarded-Proto,
    # whom and which scheme it forwards. Default none: the socket's peer is the client
    # (rate limits per address, audited addresses). docs/deployment.md.
    trusted_proxies: Annotated[list[str], NoDecode] = []
    # Browser origins allowed to call the API (CORS), comma-separated; never "*" in production.
    cors_origins: Annotated[list[str], NoDecode] = []
    # The token endpoint's rate limits: requests per minute per client and per IP address.
    auth_rate_per_client_per_minute: int = 60
    auth_rate_per_ip_per_minute: int = 30
    # Bank linking through OBP's consent requests: as the registered consumer (its key),
    # we ask; the customer approves at the bank's own pages; the customer's bank password
    # never reaches this service (docs/consent.md). Both the base URL and the key, or no
    # linking.
    bank_base_url: str | None = None
    bank_id: str = "alif.tj"
    # The National Bank of Tajikistan's daily rates export (`alif-graph rates sync`,
    # docs/fx-and-remittances.md); the sandbox serves the same format at
    # <sandbox>/nbt/kurs/export_xml.php.
    nbt_rates_url: str = "https://nbt.tj/ru/kurs/export_xml.php"
    bank_consumer_key: SecretStr | None = None
    # The bank as the customer's browser reaches it (its approval pages), when that differs
    # from the API address bank_base_url (default: bank_base_url).
    bank_public_url: str | None = None
    # This service as browsers reach it (scheme://host[:port]), for the address the bank
    # sends the customer back to; default: the address the request came in on.
    public_url: str | None = None
    # Mutual TLS towards the bank, on every bank call (OBP deployments check the consumer's
    # client certificate): a PEM certificate (its chain after it) and its key, both or
    # neither; the key's password if it has one; a CA bundle that verifies the bank
    # (default: certifi's).
    bank_client_cert_file: Path | None = None
    bank_client_key_file: Path | None = None
    bank_client_key_password: SecretStr | None = None
    bank_ca_file: Path | None = None
    # Fetched data of a customer whose consents all ended is purged after this many days.
    retention_window_days: int = 30

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def migration_url(self) -> str:
        """The URL migrations and grants run with: the owner's, else the application's."""
        return self.database_owner_url or self.database_url

    @property
    def app_role(self) -> str | None:
        """The role `db upgrade` grants to: database_url's user, when migrations run as
        another (a separate owner URL on PostgreSQL)."""
        if self.database_owner_url is None:
            return None
        app, owner = make_url(self.database_url), make_url(self.database_owner_url)
        return app.username if app.username and app.username != owner.username else None

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [o.strip() for o in value.split(",") if o.strip()]
        return value

    @field_validator("old_secret_keys", mode="before")
    @classmethod
    def _split_old_secrets(cls, value: object) -> object:
        if isinstance(value, str):
            return [s.strip() for s in value.split(",") if s.strip()]
        return value

    @field_validator("cors_origins")
    @classmethod
    def _check_origins(cls, origins: list[str]) -> list[str]:
        for origin in origins:
            parts = urlsplit(origin)
            # An origin is exactly scheme://host[:port]: browsers send nothing else.
            exact = origin == f"{parts.scheme}://{parts.netloc}" and "@" not in parts.netloc
            web = parts.scheme in ("http", "https") and bool(parts.hostname)
            if origin != "*" and not (exact and web):
                raise ValueError(f"not an origin (scheme://host[:port]): {origin!r}")
        return origins

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_proxies(cls, value: object) -> object:
        if isinstance(value, str):
            return [p.strip() for p in value.split(",") if p.strip()]
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _check_proxies(cls, proxies: list[str]) -> list[str]:
        for proxy in proxies:
            try:
                ip_network(proxy, strict=False)
            except ValueError:
                raise ValueError(
                    f"not an IP address or network (CIDR): {proxy!r}; list the proxies, not '*'"
                ) from None
        return proxies

    @field_validator("nbt_rates_url")
    @classmethod
    def _rates_url(cls, url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
            raise ValueError(f"not an http(s) URL without a query: {url!r}")
        return url

    @field_validator("bank_base_url", "bank_public_url", "public_url")
    @classmethod
    def _web_address(cls, url: str | None) -> str | None:
        return None if url is None else web_base_url(url)

    @field_validator("database_url", "database_owner_url")
    @classmethod
    def _database_url(cls, url: str | None) -> str | None:
        # `postgres://` as hosting providers hand it out, with the driver we run on.
        return None if url is None else normalize_url(url)

    @model_validator(mode="after")
    def _owner_of_the_same_database(self) -> Settings:
        if self.database_owner_url is None:
            return self
        app, owner = make_url(self.database_url), make_url(self.database_owner_url)
        if app.get_backend_name() != "postgresql" or owner.get_backend_name() != "postgresql":
            raise ValueError("database_owner_url is for PostgreSQL (SQLite has no roles)")
        place = ("host", "port", "database")
        same = all(getattr(app, p) == getattr(owner, p) for p in place)
        if not same or app.query.get("search_path") != owner.query.get("search_path"):
            raise ValueError(
                "database_owner_url must name the database (host, port, database, "
                "search_path) database_url names"
            )
        return self

    @model_validator(mode="after")
    def _client_certificate_pairs(self) -> Settings:
        if (self.bank_client_cert_file is None) != (self.bank_client_key_file is None):
            raise ValueError("set both bank_client_cert_file and bank_client_key_file, or neither")
        if self.bank_client_key_password is not None and self.bank_client_key_file is None:
            raise ValueError("bank_client_key_password needs bank_client_key_file")
        return self

    @model_validator(mode="after")
    def _current_secret_is_not_old(self) -> Settings:
        if self.secret_key and self.secret_key in self.old_secret_keys:
            raise ValueError("secret_key is also listed in old_secret_keys: remove it there")
        return self

    @model_validator(mode="after")
    def _no_wildcard_in_production(self) -> Settings:
        if self.is_production and "*" in self.cors_origins:
            raise ValueError("cors_origins must list the origins in production, not '*'")
        return self


class DirectLoginRefused(Exception):
    """A DirectLogin (an operator's or customer's bank username and password) where it is
    not allowed: production links banks only through the customer's consent at the bank."""

    def __init__(self, what: str) -> None:
        self.reason = (
            "DirectLogin (a bank username and password) is for development and tests only, "
            "refused in production; link the bank through the customer's consent"
        )
        super().__init__(f"{what}: {self.reason}")


def refuse_direct_login(settings: Settings, what: str) -> None:
    """The one rule: DirectLogin serves development and tests only. `what` names what
    wanted it (a connection, a command), for the one-line error."""
    if settings.is_production:
        raise DirectLoginRefused(what)


@lru_cache
def get_settings() -> Settings:
    return Settings()
