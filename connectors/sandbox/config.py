"""Configuration of the sandbox bank: what data it holds and which faults it injects."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

_VERSION_RE = re.compile(r"v\d+\.\d+\.\d+")
# A day: skews are minutes in practice; more would move rows across whole sync windows.
MAX_CLOCK_SKEW = 24 * 3600


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class FaultConfig:
    """Faults injected into `/obp/...` requests. The object given to `create_app` stays
    live: tests set fields at runtime. None touches `/sandbox/admin/*` or the login.
    """

    # Requests per consumer per clock minute; None = unlimited.
    rate_limit_per_minute: int | None = None
    # Probability that a request fails with 500/503 and an OBP-50000 envelope.
    error_rate: float = 0.0
    # Added to every request.
    latency_ms: int = 0
    # Probability that a request sleeps `timeout_seconds` (longer than the client waits).
    timeout_rate: float = 0.0
    timeout_seconds: float = 30.0
    # The next N requests fail with 503, deterministically.
    fail_next: int = 0
    # A transactions page requested at one of these offsets is cut in half (invalid JSON,
    # status 200) the first `malformed_times` times it is asked for; then it heals.
    malformed_offsets: list[int] = field(default_factory=list)
    malformed_times: int = 1
    # Transaction id -> the string sent as details.value.amount instead of the real one.
    malformed_records: dict[str, str] = field(default_factory=dict)
    # Once armed, the first transactions page asked at offset >= limit repeats the previous
    # page's items; then the knob turns itself off.
    duplicate_page: bool = False
    # A DirectLogin token stops working after this many requests (401 OBP-20003).
    expire_tokens_after: int | None = None
    # Seeds the random draws of error_rate and timeout_rate, so tests are repeatable.
    rng_seed: int = 0
    # issue 10: paging faults (see docs/sandbox.md, "Faults: paging").
    # Like nginx's default (underscores_in_headers off): request headers whose names hold
    # "_" never reach the bank, so obp_limit & co. only work as query parameters.
    strip_underscore_headers: bool = False
    # The bank serves at most this many transactions per page, whatever limit was asked.
    max_page_size: int | None = None
    # Transactions always come newest first, whatever sort direction was asked.
    ignore_sort_direction: bool = False
    # The bank keeps only dates: posted/completed are served (and filtered) as midnight UTC.
    date_only: bool = False
    # Rows tying on the served `posted` come in a new random order on every request.
    unstable_ties: bool = False
    # After each non-empty transactions page, the bank books one new row on that account
    # (dated its now) or reverses one booked row of the page; each counts down to 0.
    mid_read_inserts: int = 0
    mid_read_removals: int = 0
    # Transaction ids the listing leaves out while the balances still count them.
    hidden_from_listing: list[str] = field(default_factory=list)
    # Account ids whose earliest booked transaction the listing leaves out (its balances
    # and the opening balance it reports still count it).
    hidden_earliest: list[str] = field(default_factory=list)
    # The bank's clock runs this far ahead (negative: behind) when it stamps new rows.
    clock_skew_seconds: int = 0
    # The versions served under /obp/<version>/; ["v5.0.0"] is a v5.0.0-only bank.
    api_versions: list[str] = field(default_factory=lambda: ["v5.1.0"])
    # 429 answers carry Retry-After as an HTTP date (IMF-fixdate) instead of seconds.
    retry_after_http_date: bool = False
    # The literal Retry-After a 429 carries instead (a past date, garbage), when set.
    retry_after_value: str | None = None
    # The transactions endpoint reads paging from request headers only, as OBP-API's does
    # (query parameters ignored): with strip_underscore_headers that is nginx in front of OBP.
    headers_only: bool = False
    # issue 10: record faults
    # Both legs of an own-account transfer (SandboxBank.own_transfer) carry one id.
    shared_transfer_ids: bool = False
    # Transaction ids served with details.posted and details.completed null (a view
    # that hides dates).
    hidden_dates: list[str] = field(default_factory=list)
    # Transaction ids served with other_account.holder.name of exactly 255 characters and
    # details.description of exactly 2000 (OBP's column sizes), in Cyrillic and Tajik.
    max_length_fields: list[str] = field(default_factory=list)
    # Transaction ids whose details.value.amount is the bare JSON literal NaN.
    bare_nan_records: list[str] = field(default_factory=list)
    # Booking a pending row leaves out PENDING_TRANSACTION_ID.
    unlinked_pending: bool = False
    # DirectLogin refuses every attempt with 401 OBP-20004 (SandboxBank.login_attempts
    # counts them); the one knob that touches the login.
    refuse_logins: bool = False
    # Account id -> the only view the customer has on it, e.g. "accountant".
    shared_views: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FaultConfig:
        """Build from a JSON object (missing keys take defaults); ValueError on bad input."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown fault settings: {', '.join(unknown)}")
        config = cls(**dict(data))
        config.validate()
        return config

    def to_json(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def validate(self) -> None:
        def whole(name: str, minimum: int, optional: bool = False) -> None:
            value = getattr(self, name)
            if optional and value is None:
                return
            if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
                raise ValueError(f"{name} must be an integer >= {minimum}")

        def probability(name: str) -> None:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"{name} must be a number")
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")

        whole("rate_limit_per_minute", 1, optional=True)
        probability("error_rate")
        whole("latency_ms", 0)
        probability("timeout_rate")
        if isinstance(self.timeout_seconds, bool) or not isinstance(
            self.timeout_seconds, int | float
        ):
            raise ValueError("timeout_seconds must be a number")
        if self.timeout_seconds <= 0:
            raise ValueError("timeout_seconds must be positive")
        whole("fail_next", 0)
        if not isinstance(self.malformed_offsets, list) or not all(
            isinstance(o, int) and not isinstance(o, bool) and o >= 0
            for o in self.malformed_offsets
        ):
            raise ValueError("malformed_offsets must be a list of integers >= 0")
        whole("malformed_times", 0)
        if not isinstance(self.malformed_records, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in self.malformed_records.items()
        ):
            raise ValueError("malformed_records must map transaction ids to strings")
        if not isinstance(self.duplicate_page, bool):
            raise ValueError("duplicate_page must be a boolean")
        whole("expire_tokens_after", 1, optional=True)
        whole("rng_seed", 0)
        # issue 10: paging faults
        for name in (
            "strip_underscore_headers",
            "ignore_sort_direction",
            "date_only",
            "unstable_ties",
            "retry_after_http_date",
            "headers_only",
        ):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be a boolean")
        whole("max_page_size", 1, optional=True)
        whole("mid_read_inserts", 0)
        whole("mid_read_removals", 0)
        if not isinstance(self.hidden_from_listing, list) or not all(
            isinstance(i, str) for i in self.hidden_from_listing
        ):
            raise ValueError("hidden_from_listing must be a list of transaction ids")
        if not isinstance(self.hidden_earliest, list) or not all(
            isinstance(i, str) for i in self.hidden_earliest
        ):
            raise ValueError("hidden_earliest must be a list of account ids")
        if self.retry_after_value is not None and not isinstance(self.retry_after_value, str):
            raise ValueError("retry_after_value must be a string")
        skew = self.clock_skew_seconds
        if isinstance(skew, bool) or not isinstance(skew, int) or abs(skew) > MAX_CLOCK_SKEW:
            raise ValueError(f"clock_skew_seconds must be an integer within ±{MAX_CLOCK_SKEW}")
        versions = self.api_versions
        if (
            not isinstance(versions, list)
            or not versions
            or not all(isinstance(v, str) and _VERSION_RE.fullmatch(v) for v in versions)
            or len(set(versions)) != len(versions)
        ):
            raise ValueError('api_versions must be a non-empty list of distinct "vX.Y.Z"')
        # issue 10: record faults
        for name in ("shared_transfer_ids", "unlinked_pending", "refuse_logins"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be a boolean")
        for name in ("hidden_dates", "max_length_fields", "bare_nan_records"):
            ids = getattr(self, name)
            if not isinstance(ids, list) or not all(isinstance(i, str) and i for i in ids):
                raise ValueError(f"{name} must be a list of transaction ids")
        if not isinstance(self.shared_views, dict) or not all(
            isinstance(account, str)
            and isinstance(view, str)
            and view
            and view != "owner"
            and "/" not in view
            for account, view in self.shared_views.items()
        ):
            raise ValueError("shared_views must map account ids to a view id other than owner")


@dataclass(frozen=True)
class SandboxConfig:
    """What the sandbox bank holds. The same config always yields the same data."""

    seed: int = 42
    customers: int = 3
    # Length of the transaction history. It grows when `transactions_per_account` needs
    # more room than fits (at most one transaction every two active seconds).
    months: int = 12
    # None: a realistic volume (a few hundred per account). A number: exactly that many
    # per account, generated lazily, so millions are fine.
    transactions_per_account: int | None = None
    # The moment the history ends. A date means 18:00 UTC (23:00 in Dushanbe) that day;
    # None means the clock's "now" when the bank is built.
    as_of: datetime | date | None = None
    bank_id: str = "alif.tj"
    # OBP's props `consents.max_time_to_live` default.
    consent_max_ttl_seconds: int = 3600
    # OBP's `token_expiration_weeks` default of 4 weeks.
    token_ttl_seconds: int = 4 * 7 * 24 * 3600
    # Transactions are generated in blocks of this many; a page costs O(page + block).
    block_size: int = 1000
    faults: FaultConfig = field(default_factory=FaultConfig)
    # Injected so tests can move time (consent expiry, rate-limit windows, "now").
    clock: Callable[[], datetime] = utc_now
    # Serve `/sandbox/admin/*` (unauthenticated test hooks).
    admin_enabled: bool = True
    # The bank's own SQLite file for the consents it grants (None: kept in memory only).
    state_file: Path | None = None
    # Where the bank's approval pages may send the customer back (the registered
    # consumer's callbacks). A loopback http URI matches on any port (RFC 8252 §7.3).
    redirect_uris: tuple[str, ...] = (
        "http://127.0.0.1/callback",
        "http://localhost/callback",
        "http://127.0.0.1/bank/callback",
        "http://localhost/bank/callback",
        # alif-graph's own callback (graph/auth/consent/authorize.py), on any local port.
        "http://127.0.0.1/auth/flow/bank/callback",
        "http://localhost/auth/flow/bank/callback",
    )

    def __post_init__(self) -> None:
        if self.customers < 1:
            raise ValueError("customers must be >= 1")
        if self.months < 1:
            raise ValueError("months must be >= 1")
        if self.transactions_per_account is not None and self.transactions_per_account < 0:
            raise ValueError("transactions_per_account must be >= 0")
        if self.block_size < 1:
            raise ValueError("block_size must be >= 1")
        if self.consent_max_ttl_seconds < 1 or self.token_ttl_seconds < 1:
            raise ValueError("time-to-live settings must be positive")
        for uri in self.redirect_uris:
            parts = urlsplit(uri)
            if parts.scheme not in ("http", "https") or not parts.hostname or parts.fragment:
                raise ValueError(f"redirect URI must be absolute http(s) without a fragment: {uri}")
        self.faults.validate()
