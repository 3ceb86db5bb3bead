"""The seed-compatible REST endpoints, served by the same ledger queries, bearer tokens and
consent checks as GraphQL.

    GET /api/v1/alif/transactions?from_date&to_date&type&limit&offset
    GET /api/v1/alif/accounts/{accountId}/statement?from_date&to_date

Their published contract pages by limit/offset, so the transactions list does too (GraphQL
pages by keyset). Errors: {"error": CODE, "message": ..., "request_id": ...} with the
GraphQL error codes, and 400/401/403/404/429/500.

Like GraphQL, each request is rate limited (it costs one token per value it answers with,
as GraphQL counts one per field) and leaves one audit row.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from graph.audit.trail import Trail
from graph.auth.principal import Principal
from graph.auth.scopes import STATEMENTS_READ, TRANSACTIONS_READ
from graph.core.errors import (
    BadUserInput,
    ErrorCode,
    Forbidden,
    NotFound,
    PublicError,
    Unauthenticated,
)
from graph.core.inputs import check_period
from graph.relay.ids import pk_of, to_global_id
from graph.server.pipeline import handle
from graph.server.rest.encoding import ExactJSONResponse, amount, maybe_amount
from graph.server.services import Services
from graph.transactions.types import TransactionType
from ledger.queries import pages, rows, statements
from ledger.queries.pages import TransactionCriteria

DEFAULT_LIMIT = 20
# OFFSET reads and skips rows: bound how deep a client can make the database dig.
MAX_OFFSET = 100_000

STATUS = {
    ErrorCode.UNAUTHENTICATED: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.BAD_USER_INPUT: 400,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.UPSTREAM_UNAVAILABLE: 503,
}

# The values of one transaction and of a statement in the answers: their rate-limit costs.
TRANSACTION_VALUES = 6
STATEMENT_VALUES = 5


@dataclass(frozen=True, slots=True)
class Call:
    """One authenticated REST request, as a handler sees it."""

    request: Request
    session: AsyncSession
    principal: Principal
    services: Services
    trail: Trail

    def require(self, scope: str) -> None:
        self.trail.scopes.add(scope)
        if not self.principal.may(scope):
            raise Forbidden(f"This needs the consent scope {scope}.")

    async def charge(self, cost: int) -> None:
        refusal = await self.services.limits.refusal(self.principal.consent, cost, self.trail)
        if refusal is not None:
            raise refusal


Handler = Callable[[Call], Awaitable[Response]]


def endpoint(services: Services, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """A handler served through the request pipeline (graph/server/pipeline.py)."""

    async def serve(request: Request) -> Response:
        trail = Trail(operation=f"rest.{handler.__name__}")

        async def run(session: AsyncSession, principal: Principal) -> Response:
            return await handler(Call(request, session, principal, services, trail))

        return await handle(
            services, request, trail, run, refused=_error_response, failed=_internal_error
        )

    return serve


def _error_response(error: PublicError, rid: str) -> Response:
    headers = {"WWW-Authenticate": error.challenge} if isinstance(error, Unauthenticated) else {}
    body = {"error": error.code.value, "message": error.message, "request_id": rid}
    if error.code == ErrorCode.RATE_LIMITED:
        body["retry_after"] = error.extensions["retryAfter"]
    return ExactJSONResponse(body, status_code=STATUS[error.code], headers=headers)


def _internal_error(rid: str) -> Response:
    body = {"error": ErrorCode.INTERNAL_SERVER_ERROR.value, "request_id": rid}
    return ExactJSONResponse(body, status_code=500)


def _date(request: Request, name: str, *, required: bool) -> date | None:
    text = request.query_params.get(name)
    if text is None or text == "":
        if required:
            raise BadUserInput(f"`{name}` is required (YYYY-MM-DD).")
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadUserInput(f"`{name}` is not a date (YYYY-MM-DD): {text[:20]!r}.") from None


def _int(request: Request, name: str, default: int, maximum: int) -> int:
    text = request.query_params.get(name)
    if text is None:
        return default
    if not text.isdigit() or int(text) > maximum:
        raise BadUserInput(f"`{name}` must be a whole number from 0 to {maximum}.")
    return int(text)


T = TransactionType
# The seed's own words for `type` (its example asks for `type=utility`), each the ledger
# types it means; a TransactionType name in any case is accepted as well.
TYPE_WORDS: dict[str, tuple[TransactionType, ...]] = {
    "utility": (T.SERVICE_PAYMENT,),
    "service": (T.SERVICE_PAYMENT,),
    "card": (T.CARD_PAYMENT,),
    "transfer": (T.TRANSFER_IN, T.TRANSFER_OUT, T.INTERNATIONAL_TRANSFER),
    "international": (T.INTERNATIONAL_TRANSFER,),
    "remittance": (T.INTERNATIONAL_TRANSFER,),
    "cash": (T.CASH_WITHDRAWAL,),
    "topup": (T.TOP_UP,),
    "exchange": (T.CURRENCY_EXCHANGE,),
}


def _type(request: Request) -> list[str] | None:
    text = request.query_params.get("type")
    if not text:
        return None
    word = text.lower().replace("-", "_")
    if word in TYPE_WORDS:
        return [t.value for t in TYPE_WORDS[word]]
    try:
        return [TransactionType[word.upper()].value]
    except KeyError:
        words = ", ".join([*TYPE_WORDS, *(t.name for t in TransactionType)])
        raise BadUserInput(f"Unknown transaction type {text[:40]!r}; one of {words}.") from None


def _readable(call: Call) -> list[int]:
    return list(call.principal.readable_accounts)


async def list_transactions(call: Call) -> Response:
    request, session = call.request, call.session
    limit = _int(request, "limit", DEFAULT_LIMIT, call.services.settings.max_page_size)
    await call.charge(1 + TRANSACTION_VALUES * limit)
    call.require(TRANSACTIONS_READ)
    date_from = _date(request, "from_date", required=False)
    date_to = _date(request, "to_date", required=False)
    check_period(date_from, date_to)
    offset = _int(request, "offset", 0, MAX_OFFSET)
    criteria = TransactionCriteria(
        account_ids=_readable(call),
        date_from=date_from,
        date_to=date_to,
        types=_type(request),
    )
    found = await pages.transaction_offset_page(session, criteria, limit=limit, offset=offset)
    total = await pages.transaction_count(session, criteria)
    ids = [to_global_id("Transaction", row.id) for row in found]
    call.trail.ids.extend(ids)
    return ExactJSONResponse(
        {
            "transactions": [
                {
                    "id": global_id,
                    "date": row.booking_date.isoformat(),
                    "amount": amount(row.amount),
                    "type": TransactionType(row.type).value,
                    "description": row.description,
                    "balance_after": maybe_amount(row.balance_after),
                }
                for global_id, row in zip(ids, found, strict=True)
            ],
            "total_count": total,
        }
    )


async def account_statement(call: Call) -> Response:
    await call.charge(STATEMENT_VALUES)
    call.require(STATEMENTS_READ)
    request = call.request
    account_pk = pk_of(request.path_params["account_id"], "Account")
    date_from = _date(request, "from_date", required=True)
    date_to = _date(request, "to_date", required=True)
    assert date_from is not None and date_to is not None
    check_period(date_from, date_to)
    found = await rows.accounts_by_id(call.session, [account_pk], _readable(call))
    if not found:
        call.trail.refuse(to_global_id("Account", account_pk))
        raise NotFound("No account with this ID.")
    # The statement is this account's data: its id is what the answer discloses.
    call.trail.ids.append(to_global_id("Account", account_pk))
    figures = await statements.statement_figures(
        call.session, account_pk, date_from, date_to, booked_only=True
    )
    return ExactJSONResponse(
        {
            "opening_balance": amount(figures.opening),
            "closing_balance": amount(figures.closing),
            "total_debits": amount(figures.debits),
            "total_credits": amount(figures.credits),
            "currency": figures.currency,
        }
    )
