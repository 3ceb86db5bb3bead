"""Async client for the Open Bank Project API (v5.1.0, or v5.0.0 where that is all a bank
serves).

Every HTTP exchange goes through `ObpClient._request`: it adds authentication, sends,
maps the answer (or the transport failure) to a typed `UpstreamError`, re-authenticates
once after a 401 and retries transient failures with bounded backoff. TLS, with the client
certificate of mutual TLS when one is configured, comes from one `BankTls`; a bank refusing
it is an `UpstreamConfigurationError` (connectors/tls.py). Endpoint methods
only name a path and the shape they expect back. A refused login ends the client's use
of its credentials: it never logs in again (OBP locks a user after a few failed logins).
"""

from __future__ import annotations

import asyncio
import logging
import random as _random
import re
import ssl
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

import httpx

from connectors.errors import (
    ConsentNotAnswered,
    ReauthRequired,
    RedactedCause,
    UpstreamAuthError,
    UpstreamConfigurationError,
    UpstreamError,
    UpstreamMalformed,
    UpstreamNotFound,
    UpstreamRateLimited,
    UpstreamUnavailable,
)
from connectors.masking import redact
from connectors.obp import json_body
from connectors.obp.auth import Auth
from connectors.obp.consent import (
    AccountAccess,
    ConsentInfo,
    ConsentRequestInfo,
    consent_request_body,
)
from connectors.obp.dates import format_filter_date
from connectors.obp.error_codes import error_class, parse_obp_code
from connectors.obp.fields import Finite, NonFiniteNumber
from connectors.obp.pacing import Pacer
from connectors.obp.retry import RetryPolicy, retry_after_seconds
from connectors.tls import BankTls, tls_refusal

# Tried in order, once per client; the first whose `root` answers is used for every path.
API_VERSIONS = ("v5.1.0", "v5.0.0")
DEFAULT_TIMEOUT = httpx.Timeout(20.0, connect=5.0)
USER_AGENT = "alif-graph-obp/0.1"
_MAX_MESSAGE = 300
# OBP ids are [0-9a-zA-Z-._]; checking keeps "../" and "?" out of our paths.
_ID_RE = re.compile(r"^[0-9A-Za-z._-]{1,255}$")
# Failures where the request certainly did not reach the server: safe to repeat a POST.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# What an nginx in front of OBP answers (400, an HTML page) when `ssl_verify_client on`
# finds no certificate or one it cannot verify: "No required SSL certificate was sent",
# "The SSL certificate error".
_PROXY_CERTIFICATE_PAGE = re.compile(r"SSL certificate", re.IGNORECASE)

T = TypeVar("T")


def _not_sent(exc: BaseException) -> bool:
    cause = exc.__cause__
    return isinstance(cause, RedactedCause) and issubclass(cause.kind, _NOT_SENT)


Validator = Callable[[Any], T]
# An endpoint's own meaning of an OBP code, over the general mapping (error_codes.py).
CodeMeanings = Mapping[str, type[UpstreamError]]
logger = logging.getLogger(__name__)


class _ShapeError(ValueError):
    """A 2xx body that does not have the shape the endpoint promises."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


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


def _id(value: str) -> str:
    if not _ID_RE.match(value) or set(value) == {"."}:
        raise ValueError("OBP ids are 1-255 characters of [0-9A-Za-z._-]")
    return value


class ObpClient:
    """One OBP server, one set of credentials. Use as `async with ObpClient(...) as obp:`."""

    def __init__(
        self,
        base_url: str,
        auth: Auth,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        tls: BankTls | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        max_retries: int = 3,
        max_rate_limit_wait: float = 60.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        random: Callable[[], float] = _random.random,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        self._auth = auth
        self._retry = RetryPolicy(max_retries=max_retries, max_rate_limit_wait=max_rate_limit_wait)
        self._pacer = Pacer(clock=clock, sleep=sleep, patience=max_rate_limit_wait)
        self._random = random
        self._clock = clock
        self._prefix: str | None = None
        self._prefix_lock = asyncio.Lock()
        # The refusal that ended the credentials: every later authenticated call repeats it.
        self._refusal: ReauthRequired | None = None
        # Consent JWTs learnt from the consent flow, redacted like the auth secrets.
        self._learnt_secrets: set[str] = set()
        self._client_certificate = tls is not None and tls.client_certificate
        self._http = httpx.AsyncClient(
            base_url=base_url,
            transport=transport,
            # httpx's own default (certifi's bundle, no client certificate) without one.
            verify=tls.context if tls is not None else True,
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

    def _cause(self, exc: BaseException) -> RedactedCause:
        """The foreign exception as a traceback may show it: its type and redacted text
        (never the exception itself, whose request holds the URL and headers)."""
        return RedactedCause(type(exc), self._redact(str(exc))[:_MAX_MESSAGE])

    async def _request(
        self,
        method: str,
        path: str,
        validate: Validator[T],
        *,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        authenticated: bool = True,
        idempotent: bool | None = None,
        codes: CodeMeanings | None = None,
    ) -> T:
        """Send with auth, map failures to typed errors, re-login once, retry with backoff."""
        if authenticated:
            self._check_not_refused(f"{method} {path}")
        try:
            return await self._exchange(
                method, path, validate, headers, params, json, authenticated, idempotent, codes
            )
        except ReauthRequired as exc:
            if authenticated:
                self._refusal = exc
            raise

    def _check_not_refused(self, endpoint: str) -> None:
        if self._refusal is not None:
            raise ReauthRequired(
                f"the bank refused these credentials earlier: {self._refusal.message}",
                status=self._refusal.status,
                code=self._refusal.code,
                request_id=self._refusal.request_id,
                endpoint=self._redact(endpoint),
            )

    async def _exchange(
        self,
        method: str,
        path: str,
        validate: Validator[T],
        headers: Mapping[str, str] | None,
        params: Mapping[str, str] | None,
        json: Any,
        authenticated: bool,
        idempotent: bool | None,
        codes: CodeMeanings | None,
    ) -> T:
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
                    method, path, validate, {**(headers or {}), **auth_headers}, params, json, codes
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
                repeatable = idempotent or isinstance(exc, UpstreamRateLimited) or _not_sent(exc)
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
                await self._pacer.pause(delay)

    async def _attempt(
        self,
        method: str,
        path: str,
        validate: Validator[T],
        headers: dict[str, str],
        params: Mapping[str, str] | None,
        json: Any,
        codes: CodeMeanings | None = None,
    ) -> T:
        """One exchange. Every failure leaves as an UpstreamError, foreign ones chained."""
        our_id = uuid.uuid4().hex
        endpoint = self._redact(f"{method} {path}")
        await self._pacer.wait(endpoint)
        try:
            response = await self._http.request(
                method,
                path,
                headers={**headers, "X-Request-ID": our_id},
                params=params,
                json=json,
            )
        # A TLS alert read after the handshake (TLS 1.3 sends a refused certificate's
        # there) leaves httpcore as a bare ssl.SSLError.
        except (httpx.RequestError, ssl.SSLError) as exc:
            raise self._transport_error(exc, endpoint, our_id) from self._cause(exc)
        request_id = (
            response.headers.get("Correlation-Id") or response.headers.get("X-Request-ID") or our_id
        )
        logger.debug(
            "OBP %s -> %d", endpoint, response.status_code, extra={"request_id": request_id}
        )
        self._pacer.observe(response.headers)
        context: dict[str, Any] = {
            "status": response.status_code,
            "request_id": request_id,
            "endpoint": endpoint,
        }
        literals: list[str] = []

        def constant(literal: str) -> NonFiniteNumber:
            # A bare NaN/Infinity becomes a marker the mapper quarantines its record for.
            literals.append(literal)
            return NonFiniteNumber(literal)

        try:
            body = json_body.loads(response.content, constant)
        except ValueError as exc:
            if response.is_success:
                raise UpstreamMalformed("body is not valid JSON", **context) from self._cause(exc)
            body = None
        if not response.is_success:
            raise self._status_error(response, body, context, codes or {})
        try:
            result = validate(body)
        except _ShapeError as exc:
            raise UpstreamMalformed(
                f"unexpected body shape: {self._redact(str(exc))}", **context
            ) from self._cause(exc)
        # Most pages hold no bare literal: say so, and the mapper need not look for one.
        if not literals and type(result) is list:
            return cast(T, Finite(cast(list[Any], result)))
        return result

    def _transport_error(self, exc: Exception, endpoint: str, request_id: str) -> UpstreamError:
        refusal = tls_refusal(
            exc,
            client_certificate=self._client_certificate,
            in_handshake=isinstance(exc, httpx.ConnectError),
        )
        if refusal is not None:
            return UpstreamConfigurationError(
                refusal.message,
                endpoint=endpoint,
                request_id=request_id,
                should_retry=refusal.retry,
            )
        return UpstreamUnavailable(
            self._redact(f"{type(exc).__name__}: {exc}")[:_MAX_MESSAGE],
            endpoint=endpoint,
            request_id=request_id,
        )

    def _status_error(
        self, response: httpx.Response, body: Any, context: dict[str, Any], codes: CodeMeanings
    ) -> UpstreamError:
        if (
            response.status_code == 400
            and body is None
            and _PROXY_CERTIFICATE_PAGE.search(response.text)
        ):
            which = "our client certificate" if self._client_certificate else "no certificate"
            return UpstreamConfigurationError(
                f"the bank's TLS proxy refused {which} (HTTP 400 certificate page)", **context
            )
        raw = body.get("message") if isinstance(body, dict) else None
        message = raw if isinstance(raw, str) and raw else response.reason_phrase
        code = parse_obp_code(message)
        message = self._redact(message)[:_MAX_MESSAGE] or "no message"
        cls = (codes.get(code) if code else None) or error_class(response.status_code, code)
        if cls is UpstreamRateLimited:
            return UpstreamRateLimited(
                message,
                code=code,
                retry_after=retry_after_seconds(response.headers, self._clock()),
                **context,
            )
        return cls(message, code=code, **context)

    async def authenticate(self) -> None:
        """Obtain the credentials' headers and nothing else (DirectLogin: the login call),
        to learn whether the bank accepts them before they are stored."""
        await self._auth.headers(self._login)

    async def _login(self, path: str, headers: Mapping[str, str]) -> Any:
        # Checked here too: requests waiting on the auth lock must not try a refused login.
        self._check_not_refused(f"POST {path}")
        try:
            return await self._request(
                "POST",
                path,
                _object,
                headers=headers,
                json={},
                authenticated=False,
                idempotent=True,
            )
        except ReauthRequired as exc:
            self._refusal = exc
            raise

    # -- the API version -------------------------------------------------------------

    async def api_prefix(self) -> str:
        """`/obp/v5.1.0`, or `/obp/v5.0.0` where only that answers: found once per client by
        asking each version's public `root`; a 404 means the bank does not serve it."""
        async with self._prefix_lock:
            if self._prefix is None:
                self._prefix = await self._discover_prefix()
            return self._prefix

    async def _discover_prefix(self) -> str:
        for version in API_VERSIONS:
            prefix = f"/obp/{version}"
            try:
                await self._request("GET", f"{prefix}/root", _object, authenticated=False)
            except UpstreamNotFound:
                continue
            logger.info("OBP API version %s", version)
            return prefix
        raise UpstreamNotFound(
            f"the server serves none of the OBP API versions {', '.join(API_VERSIONS)}",
            status=404,
            endpoint="GET /obp/{version}/root",
        )

    async def _path(self, *segments: str) -> str:
        return await self.api_prefix() + "/" + "/".join(segments)

    # -- consents --------------------------------------------------------------------

    def _learn(self, info: ConsentInfo) -> ConsentInfo:
        if info.jwt:
            self._learnt_secrets.add(info.jwt)
        return info

    async def create_consent_request(
        self,
        bank_id: str,
        *,
        everything: bool = False,
        accounts: Sequence[AccountAccess] = (),
        time_to_live: int,
        phone_number: str | None = None,
    ) -> ConsentRequestInfo:
        """`POST /consumer/consent-requests` with application access (the client's auth is
        `ApplicationAuth`): the request the customer then answers at the bank's own pages."""
        body = consent_request_body(
            bank_id=_id(bank_id),
            everything=everything,
            accounts=accounts,
            time_to_live=time_to_live,
            phone_number=phone_number,
        )
        path = await self._path("consumer", "consent-requests")
        return await self._request("POST", path, ConsentRequestInfo.from_json, json=body)

    async def consent_by_request(self, consent_request_id: str) -> ConsentInfo:
        """`GET /consumer/consent-requests/ID/consents`: the consent the customer granted
        (the JWT only once ACCEPTED). `ConsentNotAnswered` while the customer has not
        answered; another consumer's request is `UpstreamNotFound`."""
        path = await self._path("consumer", "consent-requests", _id(consent_request_id), "consents")
        # OBP-35001 here means "no consent yet", not a refused credential.
        info = await self._request(
            "GET", path, ConsentInfo.from_json, codes={"OBP-35001": ConsentNotAnswered}
        )
        return self._learn(info)

    async def revoke_consent(self, bank_id: str, consent_id: str) -> ConsentInfo:
        """Revoke by id (needs the CanRevokeConsentAtBank role)."""
        path = await self._path("banks", _id(bank_id), "consents", _id(consent_id))
        return await self._request("DELETE", path, ConsentInfo.from_json)

    async def revoke_current_consent(self) -> ConsentInfo:
        """Revoke the consent this client authenticates with (`Consent-Id` auth)."""
        path = await self._path("my", "consent", "current")
        return await self._request("DELETE", path, ConsentInfo.from_json)

    # -- read endpoints --------------------------------------------------------------

    async def banks(self) -> list[Any]:
        return await self._request("GET", await self._path("banks"), _list_at("banks"))

    async def my_accounts(self) -> list[Any]:
        """Accounts the user can see through a view, at every bank, each with the user's
        views on it (`views`, or `views_available` in older shapes)."""
        path = await self._path("my", "accounts")
        return await self._request("GET", path, _list_at("accounts"))

    async def accounts_held(self, bank_id: str) -> list[Any]:
        path = await self._path("banks", _id(bank_id), "accounts-held")
        return await self._request("GET", path, _list_at("accounts"))

    async def account(self, bank_id: str, account_id: str, view_id: str) -> dict[str, Any]:
        """Core details (number, product_code, balance) through `view_id`."""
        path = await self._path(
            "banks", _id(bank_id), "accounts", _id(account_id), "views", _id(view_id)
        )
        return await self._request("GET", path, _object)

    async def account_balances(self, bank_id: str, account_id: str, view_id: str) -> dict[str, Any]:
        path = await self._path(
            "banks", _id(bank_id), "accounts", _id(account_id), "views", _id(view_id), "balances"
        )
        return await self._request("GET", path, _object)

    async def bank_balances(self, bank_id: str) -> list[Any]:
        """Balances of all the user's accounts at one bank in a single call."""
        path = await self._path("banks", _id(bank_id), "balances")
        return await self._request("GET", path, _list_at("accounts"))

    async def _view_path(self, bank_id: str, account_id: str, view_id: str, *rest: str) -> str:
        return await self._path(
            "banks", _id(bank_id), "accounts", _id(account_id), _id(view_id), *rest
        )

    async def transactions_page(
        self,
        bank_id: str,
        account_id: str,
        view_id: str,
        *,
        limit: int = 100,
        offset: int = 0,
        from_date: datetime | None = None,
        to_date: datetime | None = None,
        sort: str = "ASC",
    ) -> list[Any]:
        """One page, exactly as served: no conclusion is drawn from its length.

        OBP-API's transactions endpoint reads its filters from the request headers only
        (`createQueriesByHttpParamsFuture(callContext.requestHeaders)`), the unprefixed
        name winning over `obp_NAME`; other OBP banks read the query string. Both go, so
        that a proxy dropping underscored headers (nginx by default) still lets `limit`
        and `offset` through. See docs/connectors.md, "Paging"."""
        if limit < 1 or offset < 0:
            raise ValueError("limit must be >= 1 and offset >= 0")
        if sort not in ("ASC", "DESC"):
            raise ValueError("sort must be ASC or DESC")
        query = {"limit": str(limit), "offset": str(offset), "sort_direction": sort}
        if from_date is not None:
            query["from_date"] = format_filter_date(from_date)
        if to_date is not None:
            query["to_date"] = format_filter_date(to_date)
        headers = {"limit": query["limit"], "offset": query["offset"]}
        headers.update({f"obp_{name}": value for name, value in query.items()})
        path = await self._view_path(bank_id, account_id, view_id, "transactions")
        # More than asked: the server ignored the limit, and most likely the offset too.
        validate = _list_at("transactions", max_len=limit)
        return await self._request("GET", path, validate, headers=headers, params=query)

    async def transaction(
        self, bank_id: str, account_id: str, view_id: str, tx_id: str
    ) -> dict[str, Any]:
        path = await self._view_path(
            bank_id, account_id, view_id, "transactions", _id(tx_id), "transaction"
        )
        return await self._request("GET", path, _object)

    async def cards(self) -> list[Any]:
        """Cards of the current user at every bank (v1.3.0 shape, full PAN: mask at once)."""
        return await self._request("GET", await self._path("cards"), _list_at("cards"))

    async def transaction_requests(
        self,
        bank_id: str,
        account_id: str,
        view_id: str,
        *,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[Any]:
        """OBP lists these unpaged; `limit`/`offset` go as query parameters, which a bank that
        pages them honours and one that does not ignores."""
        path = await self._view_path(bank_id, account_id, view_id, "transaction-requests")
        params = None if limit is None else {"limit": str(int(limit)), "offset": str(int(offset))}
        return await self._request(
            "GET", path, _list_at("transaction_requests_with_charges"), params=params
        )

    async def counterparties(self, bank_id: str, account_id: str, view_id: str) -> list[Any]:
        path = await self._view_path(bank_id, account_id, view_id, "counterparties")
        return await self._request("GET", path, _list_at("counterparties"))
