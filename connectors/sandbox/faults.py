"""Fault injection for `/obp/...` requests, driven by a live, mutable `FaultConfig`.

The middleware handles what applies to any request (served API versions, a proxy that
strips headers, rate limits, failures, latency, timeouts); the transactions handler asks
`FaultInjector` about page faults (how a page is cut, ordered and listed, what the bank
changes between pages, malformed pages and amounts). Admin and login paths are never
touched.
"""

from __future__ import annotations

import asyncio
import copy
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import fields, replace
from datetime import UTC, datetime
from email.utils import format_datetime

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from connectors.sandbox import errors
from connectors.sandbox.auth import direct_login_params
from connectors.sandbox.bank import SandboxBank
from connectors.sandbox.config import FaultConfig
from connectors.sandbox.models import BOOKED, Transaction
from connectors.sandbox.obp_json import ObpJSONResponse, error_body
from connectors.sandbox.paging import Listing, PageQuery

FAULTY_PREFIX = "/obp/"
_NOT_FOUND = 404


class FaultInjector:
    """Applies `config`, the live FaultConfig: the very object in `SandboxConfig.faults`,
    so setting a field on either takes effect on the next request."""

    def __init__(self, config: FaultConfig, clock: Callable[[], datetime]) -> None:
        self._clock = clock
        self.config = config
        self.configure(config)

    def configure(self, config: FaultConfig) -> None:
        """Take every knob from `config` (in place) and reset counters and random stream."""
        config.validate()
        for item in fields(FaultConfig):
            setattr(self.config, item.name, copy.deepcopy(getattr(config, item.name)))
        self._rng = random.Random(config.rng_seed)
        # Its own stream, so shuffled ties and reversals leave error_rate's draws alone.
        self._paging_rng = random.Random(f"paging-{config.rng_seed}")
        self._malformed_served: Counter[int] = Counter()
        self._windows: dict[str, tuple[int, int]] = {}  # consumer -> (minute, requests)

    # every request ------------------------------------------------------------------------

    def admit(self, consumer: str) -> tuple[bool, dict[str, str]]:
        """Count a request against the consumer's per-minute window (limit must be set)."""
        limit = self.config.rate_limit_per_minute
        assert limit is not None
        seconds = int(self._clock().timestamp())
        minute, used = self._windows.get(consumer, (seconds // 60, 0))
        if minute != seconds // 60:
            minute, used = seconds // 60, 0
        allowed = used < limit
        used += 1 if allowed else 0
        self._windows[consumer] = (minute, used)
        reset = str(60 - seconds % 60)
        headers = {
            "X-Rate-Limit-Limit": str(limit),
            "X-Rate-Limit-Remaining": str(limit - used),
            "X-Rate-Limit-Reset": reset,
        }
        if not allowed:
            headers["Retry-After"] = reset
            if self.config.retry_after_http_date:
                retry_at = datetime.fromtimestamp(seconds + int(reset), UTC)
                headers["Retry-After"] = format_datetime(retry_at, usegmt=True)
            if self.config.retry_after_value is not None:
                headers["Retry-After"] = self.config.retry_after_value
        return allowed, headers

    def failure(self) -> int | None:
        """The status to fail this request with, if any."""
        if self.config.fail_next > 0:
            self.config.fail_next -= 1
            return 503
        if self.config.error_rate and self._rng.random() < self.config.error_rate:
            return self._rng.choice((500, 503))
        return None

    def delay(self) -> float:
        seconds = self.config.latency_ms / 1000
        if self.config.timeout_rate and self._rng.random() < self.config.timeout_rate:
            seconds += self.config.timeout_seconds
        return seconds

    # transactions pages -------------------------------------------------------------------

    def page_offset(self, offset: int, limit: int | None) -> int:
        """The offset actually served: once armed, a page repeats its predecessor."""
        if self.config.duplicate_page and limit and offset >= limit:
            self.config.duplicate_page = False
            return offset - limit
        return offset

    def page_query(self, query: PageQuery) -> PageQuery:
        """What the bank actually serves of `query`: its size cap, its own order, and
        (once armed) a duplicated page."""
        config = self.config
        limit = query.limit
        if config.max_page_size is not None:
            limit = config.max_page_size if limit is None else min(limit, config.max_page_size)
        return replace(
            query,
            offset=self.page_offset(query.offset, limit),
            limit=limit,
            descending=query.descending or config.ignore_sort_direction,
        )

    def listing(self, bank: SandboxBank, account_id: str) -> Listing:
        hidden = set(self.config.hidden_from_listing)
        if account_id in self.config.hidden_earliest:
            earliest = bank.history(account_id).earliest_booked()
            if earliest is not None:
                hidden.add(earliest.id)
        return Listing(
            date_only=self.config.date_only,
            hidden=frozenset(hidden),
            shuffle=self._paging_rng if self.config.unstable_ties else None,
        )

    def after_page(self, bank: SandboxBank, account_id: str, page: list[Transaction]) -> None:
        """The bank moves on while a reader pages: after a non-empty page it books one new
        row, and reverses one booked row of that page (behind the reader's position, in
        whichever order it reads), while the knobs count down."""
        if not page:
            return
        if self.config.mid_read_inserts > 0:
            self.config.mid_read_inserts -= 1
            bank.add_transactions(account_id, 1)
        booked = [t for t in page if t.status == BOOKED]
        if self.config.mid_read_removals > 0 and booked:
            # A reversed charge keeps every balance at or above zero; a credit may not.
            debits = [t for t in booked if t.amount_minor < 0]
            bank.remove_transaction(account_id, self._paging_rng.choice(debits or booked).id)
            self.config.mid_read_removals -= 1

    def malformed(self, offset: int) -> bool:
        """Whether this page goes out truncated (the first `malformed_times` asks)."""
        if offset not in self.config.malformed_offsets:
            return False
        if self._malformed_served[offset] >= self.config.malformed_times:
            return False
        self._malformed_served[offset] += 1
        return True

    def amount_for(self, transaction_id: str) -> str | None:
        return self.config.malformed_records.get(transaction_id)


def _consumer(headers: Headers, scope: Scope, bank: SandboxBank) -> str:
    """Whom a request counts against: the consumer key, else the client address."""
    if headers.get("consent-jwt") or headers.get("consent-id"):
        key = headers.get("consumer-key")
        if key:
            return key
    params = direct_login_params(headers)
    token = params.get("token") if params else None
    consumer = bank.token_consumer(token) if token else None
    if consumer:
        return consumer
    client = scope.get("client")
    return f"anonymous:{client[0] if client else ''}"


class FaultMiddleware:
    def __init__(self, app: ASGIApp, *, faults: FaultInjector, bank: SandboxBank) -> None:
        self.app = app
        self.faults = faults
        self.bank = bank

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(FAULTY_PREFIX):
            await self.app(scope, receive, send)
            return
        version = scope["path"][len(FAULTY_PREFIX) :].split("/", 1)[0]
        if version not in self.faults.config.api_versions:
            body = error_body(_NOT_FOUND, errors.NOT_FOUND)
            await ObpJSONResponse(body, _NOT_FOUND)(scope, receive, send)
            return
        if self.faults.config.strip_underscore_headers:
            # nginx's default (underscores_in_headers off) drops these before the bank.
            kept = [(k, v) for k, v in scope["headers"] if b"_" not in k]
            scope = {**scope, "headers": kept}
        limit_headers: dict[str, str] = {}
        limit = self.faults.config.rate_limit_per_minute
        if limit is not None:
            consumer = _consumer(Headers(scope=scope), scope, self.bank)
            allowed, limit_headers = self.faults.admit(consumer)
            if not allowed:
                who = "anonymous access" if consumer.startswith("anonymous:") else "this Consumer"
                detail = f"We only allow {limit} requests per minute for {who}."
                body = error_body(429, f"{errors.TOO_MANY_REQUESTS} {detail}")
                await ObpJSONResponse(body, 429, headers=limit_headers)(scope, receive, send)
                return
        status = self.faults.failure()
        if status is not None:
            body = error_body(status, errors.UNKNOWN_ERROR)
            await ObpJSONResponse(body, status, headers=limit_headers)(scope, receive, send)
            return
        delay = self.faults.delay()
        if delay:
            await asyncio.sleep(delay)
        if not limit_headers:
            await self.app(scope, receive, send)
            return

        async def send_with_limits(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = [(k.lower().encode(), v.encode()) for k, v in limit_headers.items()]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_limits)
