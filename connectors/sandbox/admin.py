"""Sandbox-only hooks under /sandbox/admin: no real bank has these, and they need no
authentication (the server binds to 127.0.0.1 by default). Faults never apply here."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from connectors.sandbox import errors
from connectors.sandbox.config import FaultConfig
from connectors.sandbox.errors import ObpError
from connectors.sandbox.obp_json import ObpJSONResponse, iso
from connectors.sandbox.record_admin import record_routes
from connectors.sandbox.web import bank_of, faults_of, json_object

ADMIN_PREFIX = "/sandbox/admin"
MAX_ADDED = 100_000


async def sca_code(request: Request) -> Response:
    consent = bank_of(request).consent(request.path_params["consent_id"])
    if consent is None:
        raise ObpError(errors.CONSENT_NOT_FOUND, status=404)
    return ObpJSONResponse({"code": consent.sca_code})


def _known_account(request: Request, account_id: object) -> str:
    if not isinstance(account_id, str) or bank_of(request).account(account_id) is None:
        raise ObpError(errors.ACCOUNT_NOT_FOUND)
    return account_id


async def book_pending(request: Request) -> Response:
    """Book every pending transaction (of one account, if `account_id` is given; only
    those in `transaction_ids`, if given)."""
    body = await json_object(request)
    account_id = body.get("account_id")
    if account_id is not None:
        account_id = _known_account(request, account_id)
    only = body.get("transaction_ids")
    if only is not None and (
        not isinstance(only, list) or not all(isinstance(i, str) for i in only)
    ):
        raise ObpError(errors.INVALID_JSON, "transaction_ids must be a list of strings.")
    try:
        booked = bank_of(request).book_pending(account_id, only)
    except ValueError as exc:
        raise ObpError(errors.INVALID_JSON, str(exc)) from None
    items = [
        {"account_id": new.account_id, "pending_transaction_id": old_id, "transaction_id": new.id}
        for old_id, new in booked
    ]
    return ObpJSONResponse({"booked": items})


async def add_transactions(request: Request) -> Response:
    body = await json_object(request)
    account_id = _known_account(request, body.get("account_id"))
    count = body.get("count", 1)
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_ADDED:
        raise ObpError(errors.INVALID_JSON, f"count must be an integer in 1..{MAX_ADDED}.")
    added = bank_of(request).add_transactions(account_id, count)
    return ObpJSONResponse({"transaction_ids": [t.id for t in added]}, status_code=201)


async def truth(request: Request) -> Response:
    """`SandboxBank.truth` over HTTP, for a bank run in another process."""
    bank = bank_of(request)
    account_id = _known_account(request, request.path_params["account_id"])
    rows = [
        {
            "id": row.id,
            "amount_minor": row.amount_minor,
            "status": row.status,
            "posted": iso(row.posted),
            "new_balance_minor": row.new_balance_minor,
        }
        for row in bank.truth(account_id)
    ]
    return ObpJSONResponse(
        {
            "account_id": account_id,
            "booked_balance_minor": bank.booked_balance_minor(account_id),
            "transactions": rows,
        }
    )


async def get_faults(request: Request) -> Response:
    return ObpJSONResponse(faults_of(request).config.to_json())


async def put_faults(request: Request) -> Response:
    """Replace every fault knob (missing keys take their defaults) and reset counters."""
    try:
        config = FaultConfig.from_json(await json_object(request))
    except (TypeError, ValueError) as exc:
        raise ObpError(errors.INVALID_JSON, str(exc)) from None
    faults = faults_of(request)
    faults.configure(config)
    return ObpJSONResponse(faults.config.to_json())


async def customers(request: Request) -> Response:
    """The demo logins and their accounts (what the server prints at start)."""
    bank = bank_of(request)
    items = [
        {
            "username": c.username,
            "password": c.password,
            "display_name": c.display_name,
            "phone": c.phone,
            "archetype": c.archetype,
            "accounts": [
                {
                    "id": a.id,
                    "currency": a.currency,
                    "number": a.number,
                    "product_code": a.product_code,
                    "label": a.label,
                }
                for a in bank.accounts_of(c.username)
            ],
        }
        for c in bank.customers
    ]
    return ObpJSONResponse(
        {"bank_id": bank.bank_id, "consumer_key": bank.consumer_key, "customers": items}
    )


def admin_routes() -> list[Route]:
    return [
        Route(f"{ADMIN_PREFIX}/sca-codes/{{consent_id}}", sca_code),
        Route(f"{ADMIN_PREFIX}/book-pending", book_pending, methods=["POST"]),
        Route(f"{ADMIN_PREFIX}/add-transactions", add_transactions, methods=["POST"]),
        Route(f"{ADMIN_PREFIX}/truth/{{account_id}}", truth),
        Route(f"{ADMIN_PREFIX}/faults", get_faults, methods=["GET"]),
        Route(f"{ADMIN_PREFIX}/faults", put_faults, methods=["PUT"]),
        Route(f"{ADMIN_PREFIX}/customers", customers),
        *record_routes(ADMIN_PREFIX),
    ]
