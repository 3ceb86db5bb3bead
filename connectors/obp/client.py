"""Async client for the Open Bank Project API v5.1.0.

Every HTTP exchange goes through `ObpClient._request`: it adds authentication, sends,
maps the answer (or the transport failure) to a typed `UpstreamError`, re-authenticates
once after a 401 and retries transient failures with bounded backoff. Endpoint methods
only name a path and the shape they expect back.
"""

from __future__ import annotations

import asyncio
import logging
import random as _random
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

import httpx

from connectors.errors import (
    ReauthRequired,
    UpstreamAuthError,
    UpstreamError,
    UpstreamMalformed,
    UpstreamRateLimited,
    UpstreamUnavailable,
)
from connectors.masking import redact
from connectors.obp.auth import Auth
from connectors.obp.consent import ConsentInfo, ConsentView, consent_body
from connectors.obp.dates import format_filter_date
from connectors.obp.error_codes import error_class, parse_obp_code
from connectors.obp.retry import RetryPolicy, retry_after_seconds

API_PREFIX = "/obp/v5.1.0"
DEFAULT_TIMEOUT = httpx.Timeout(20.0, connect=5.0)
USER_AGENT = "alif-graph-obp/0.1"
_MAX_MESSAGE = 300
# OBP ids are [0-9a-zA-Z-._]; checking keeps "../" and "?" out of our paths.
_ID_RE = re.compile(r"^[0-9A-Za-z._-]{1,255}$")
# Failures where the request certainly did not reach the server: safe to repeat a POST.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)

T = TypeVar("T")
Validator = Callable[[Any], T]
logger = logging.getLogger(__name__)


class _ShapeError(ValueError):
    """A 2xx body that does not have the shape the endpoint promises."""


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-standard JSON constant {name}")


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise _ShapeError("expected a JSON object")
    return body


def _list_at(key: str, max_len: int | None = None) -> Validator[list[Any]]:
    def validate(body: Any) -> list[Any]:
        items = _object(body).get(key)
        if not isinstance(items, list):
            raise _ShapeError(f"expected a list at {key!r}")
        if max_len is not None and len(items) > max_len:
            # The server ignored obp_limit, so it most likely ignored obp_offset too.
            raise _ShapeError(f"{len(items)} items for a limit of {max_len}")
        return items

    return validate


def _first_id(page: list[Any]) -> str | None:
    first = page[0] if page else None
    value = first.get("id") if isinstance(first, dict) else None
    return value if isinstance(value, str) else None


def _id(value: str) -> str:
    if not _ID_RE.match(value) or set(value) == {"."}:
        raise ValueError("OBP ids are 1-255 characters of [0-9A-Za-z._-]")
    return value


def _path(*segments: str) -> str:
    return API_PREFIX + "/" + "/".join(segments)


class ObpClient:
    """One OBP server, one set of credentials. Use as `async with ObpClient(...) as obp:`."""

    def __init__(
        self,
        base_url: str,
        auth: Auth,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        max_retries: int = 3,
        max_rate_limit_wait: float = 60.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        random: Callable[[], float] = _random.random,
        view_id: str = "owner",
    ) -> None:
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        self._auth = auth
        self._retry = RetryPolicy(max_retries=max_retries, max_rate_limit_wait=max_rate_limit_wait)
        self._sleep = sleep
        self._random = random
        self._view_id = _id(view_id)
        # Consent JWTs learnt from the consent flow, redacted like the auth secrets.
        self._learnt_secrets: set[str] = set()
        self._http = httpx.AsyncClient(
            base_url=base_url,
            transport=transport,
            timeout=timeout,
            headers={"Accept": "application/json", "User-Agent": USER_AGENT},
            follow_redirects=False,
            trust_env=False,  # lower layers never read the environment (proxies, netrc)
        )

    async def __aenter__(self) -> ObpClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- the choke point -------------------------------------------------------------

    def _redact(self, text: str) -> str:
        return redact(text, (*self._auth.secrets(), *self._learnt_secrets))

    async def _request(
        self,
        method: str,
        path: str,
        validate: Validator[T],
        *,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
        authenticated: bool = True,
        idempotent: bool | None = None,
    ) -> T:
        """Send with auth, map failures to typed errors, re-login once, retry with backoff."""
        if idempotent is None:
            idempotent = method in ("GET", "HEAD", "PUT", "DELETE")
        attempt = 0
        renewed = False
        while True:
            auth_headers: dict[str, str] = {}
            try:
                if authenticated:
                    auth_headers = await self._auth.headers(self._login)
                return await self._attempt(
                    method, path, validate, {**(headers or {}), **auth_headers}, json
                )
            except ReauthRequired:
                raise
            except UpstreamAuthError as exc:
                if (
                    renewed
                    or not authenticated
                    or not await self._auth.renew(self._login, auth_headers)
                ):
                    raise ReauthRequired(
                        exc.message,
                        status=exc.status,
                        code=exc.code,
                        request_id=exc.request_id,
                        endpoint=exc.endpoint,
                    ) from exc
                renewed = True
                logger.info("OBP %s refused the credentials; logged in again", exc.endpoint)
            except UpstreamError as exc:
                repeatable = (
                    idempotent
                    or isinstance(exc, UpstreamRateLimited)
                    or isinstance(exc.__cause__, _NOT_SENT)
                )
                delay = self._retry.delay(exc, attempt, self._random) if repeatable else None
                if delay is None:
                    raise
                attempt += 1
                logger.warning(
                    "OBP %s failed (%s), retry %d of %d in %.2fs",
                    exc.endpoint,
                    type(exc).__name__ + (f" {exc.code}" if exc.code else ""),
                    attempt,
                    self._retry.max_retries,
                    delay,
                    extra={"request_id": exc.request_id},
                )
                await self._sleep(delay)

    async def _attempt(
        self,
        method: str,
        path: str,
        validate: Validator[T],
        headers: dict[str, str],
        json: Any,
    ) -> T:
        """One exchange. Every failure leaves as an UpstreamError, foreign ones chained."""
        our_id = uuid.uuid4().hex
        endpoint = self._redact(f"{method} {path}")
        try:
            response = await self._http.request(
                method, path, headers={**headers, "X-Request-ID": our_id}, json=json
            )
        except httpx.RequestError as exc:
            raise UpstreamUnavailable(
                self._redact(f"{type(exc).__name__}: {exc}")[:_MAX_MESSAGE],
                endpoint=endpoint,
                request_id=our_id,
            ) from exc
        request_id = (
            response.headers.get("Correlation-Id") or response.headers.get("X-Request-ID") or our_id
        )
        logger.debug(
            "OBP %s -> %d", endpoint, response.status_code, extra={"request_id": request_id}
        )
        context: dict[str, Any] = {
            "status": response.status_code,
            "request_id": request_id,
            "endpoint": endpoint,
        }
        try:
            body = response.json(parse_float=Decimal, parse_constant=_reject_constant)
        except ValueError as exc:
            if response.is_success:
                raise UpstreamMalformed("body is not valid JSON", **context) from exc
            body = None
        if not response.is_success:
            raise self._status_error(response, body, context)
        try:
            return validate(body)
        except _ShapeError as exc:
            raise UpstreamMalformed(f"unexpected body shape: {exc}", **context) from exc

    def _status_error(
        self, response: httpx.Response, body: Any, context: dict[str, Any]
    ) -> UpstreamError:
        raw = body.get("message") if isinstance(body, dict) else None
        message = raw if isinstance(raw, str) and raw else response.reason_phrase
        code = parse_obp_code(message)
        message = self._redact(message)[:_MAX_MESSAGE] or "no message"
        cls = error_class(response.status_code, code)
        if cls is UpstreamRateLimited:
            return UpstreamRateLimited(
                message, code=code, retry_after=retry_after_seconds(response.headers), **context
            )
        return cls(message, code=code, **context)

    async def _login(self, path: str, headers: Mapping[str, str]) -> Any:
        return await self._request(
            "POST", path, _object, headers=headers, json={}, authenticated=False, idempotent=True
        )

    # -- consents --------------------------------------------------------------------

    def _learn(self, info: ConsentInfo) -> ConsentInfo:
        if info.jwt:
            self._learnt_secrets.add(info.jwt)
        return info

    async def create_consent(
        self,
        bank_id: str,
        sca_method: str = "SMS",
        *,
        views: list[ConsentView] | None = None,
        everything: bool = False,
        time_to_live: int | None = None,
        phone_number: str | None = None,
        email: str | None = None,
        valid_from: datetime | None = None,
        consumer_id: str | None = None,
    ) -> ConsentInfo:
        """Start a consent (status INITIATED); OBP sends the one-time code by SMS or email."""
        body = consent_body(
            sca_method,
            views=views,
            everything=everything,
            time_to_live=time_to_live,
            phone_number=phone_number,
            email=email,
            valid_from=valid_from,
            consumer_id=consumer_id,
        )
        path = _path("banks", _id(bank_id), "my", "consents", sca_method)
        return self._learn(await self._request("POST", path, ConsentInfo.from_json, json=body))

    async def answer_consent_challenge(
        self, bank_id: str, consent_id: str, answer: str
    ) -> ConsentInfo:
        """Status ACCEPTED when the code was right, REJECTED otherwise."""
        path = _path("banks", _id(bank_id), "consents", _id(consent_id), "challenge")
        return self._learn(
            await self._request("POST", path, ConsentInfo.from_json, json={"answer": answer})
        )

    async def revoke_consent(self, bank_id: str, consent_id: str) -> ConsentInfo:
        """Revoke by id (needs the CanRevokeConsentAtBank role)."""
        path = _path("banks", _id(bank_id), "consents", _id(consent_id))
        return await self._request("DELETE", path, ConsentInfo.from_json)

    async def revoke_current_consent(self) -> ConsentInfo:
        """Revoke the consent this client authenticates with (`Consent-Id` auth)."""
        return await self._request(
            "DELETE", _path("my", "consent", "current"), ConsentInfo.from_json
        )

    # -- read endpoints --------------------------------------------------------------

    async def banks(self) -> list[Any]:
        return await self._request("GET", _path("banks"), _list_at("banks"))

    async def my_accounts(self) -> list[Any]:
        """Accounts the user can see through a view, at every bank."""
        return await self._request("GET", _path("my", "accounts"), _list_at("accounts"))

    async def accounts_held(self, bank_id: str) -> list[Any]:
        path = _path("banks", _id(bank_id), "accounts-held")
        return await self._request("GET", path, _list_at("accounts"))

    async def account(self, bank_id: str, account_id: str) -> dict[str, Any]:
        """Core details (number, product_code, balance) through the configured view."""
        path = _path("banks", _id(bank_id), "accounts", _id(account_id), "views", self._view_id)
        return await self._request("GET", path, _object)

    async def account_balances(self, bank_id: str, account_id: str) -> dict[str, Any]:
        path = _path(
            "banks", _id(bank_id), "accounts", _id(account_id), "views", self._view_id, "balances"
        )
        return await self._request("GET", path, _object)

    async def bank_balances(self, bank_id: str) -> list[Any]:
        """Balances of all the user's accounts at one bank in a single call."""
        path = _path("banks", _id(bank_id), "balances")
        return await self._request("GET", path, _list_at("accounts"))

    def _transactions_path(self, bank_id: str, account_id: str) -> str:
        return _path(
            "banks", _id(bank_id), "accounts", _id(account_id), self._view_id, "transactions"
        )

    async def transactions_page(
        self,
        bank_id: str,
        account_id: str,
        *,
        limit: int = 100,
        offset: int = 0,
        from_date: datetime | None = None,
        to_date: datetime | None = None,
        sort: str = "ASC",
        previous_first: str | None = None,
    ) -> list[Any]:
        """One page. This endpoint reads its filters from HTTP headers, not the query string.
        `previous_first`, the first id of the page before, makes a repeat of it a retry."""
        if limit < 1 or offset < 0:
            raise ValueError("limit must be >= 1 and offset >= 0")
        if sort not in ("ASC", "DESC"):
            raise ValueError("sort must be ASC or DESC")
        headers = {"obp_limit": str(limit), "obp_offset": str(offset), "obp_sort_direction": sort}
        if from_date is not None:
            headers["obp_from_date"] = format_filter_date(from_date)
        if to_date is not None:
            headers["obp_to_date"] = format_filter_date(to_date)
        page_list = _list_at("transactions", max_len=limit)

        def validate(body: Any) -> list[Any]:
            page = page_list(body)
            # A page starting where the previous one started was served twice (a replayed
            # or cached answer); asking again usually gets the right one.
            if previous_first is not None and _first_id(page) == previous_first:
                raise _ShapeError(f"the page at offset {offset} repeats the previous page")
            return page

        path = self._transactions_path(bank_id, account_id)
        return await self._request("GET", path, validate, headers=headers)

    async def iter_transaction_pages(
        self,
        bank_id: str,
        account_id: str,
        *,
        limit: int = 100,
        offset: int = 0,
        from_date: datetime | None = None,
        to_date: datetime | None = None,
        sort: str = "ASC",
    ) -> AsyncIterator[tuple[int, list[Any]]]:
        """Yield `(offset, page)` from `offset` on, until a page shorter than `limit`."""
        previous_first: str | None = None
        while True:
            page = await self.transactions_page(
                bank_id,
                account_id,
                limit=limit,
                offset=offset,
                from_date=from_date,
                to_date=to_date,
                sort=sort,
                previous_first=previous_first,
            )
            yield offset, page
            if len(page) < limit:
                return
            previous_first = _first_id(page)
            offset += len(page)

    async def transaction(self, bank_id: str, account_id: str, tx_id: str) -> dict[str, Any]:
        path = self._transactions_path(bank_id, account_id) + f"/{_id(tx_id)}/transaction"
        return await self._request("GET", path, _object)

    async def cards(self) -> list[Any]:
        """Cards of the current user at every bank (v1.3.0 shape, full PAN: mask at once)."""
        return await self._request("GET", _path("cards"), _list_at("cards"))

    async def transaction_requests(
        self, bank_id: str, account_id: str, *, limit: int | None = None, offset: int = 0
    ) -> list[Any]:
        """OBP lists these unpaged; `limit`/`offset` go as query parameters, which a bank that
        pages them honours and one that does not ignores."""
        path = _path(
            "banks",
            _id(bank_id),
            "accounts",
            _id(account_id),
            self._view_id,
            "transaction-requests",
        )
        if limit is not None:
            path += f"?limit={int(limit)}&offset={int(offset)}"
        return await self._request("GET", path, _list_at("transaction_requests_with_charges"))

    async def counterparties(self, bank_id: str, account_id: str) -> list[Any]:
        path = _path(
            "banks", _id(bank_id), "accounts", _id(account_id), self._view_id, "counterparties"
        )
        return await self._request("GET", path, _list_at("counterparties"))
