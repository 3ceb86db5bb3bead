"""Admin hooks for booked rows the bank changes after the fact (sandbox only): an
own-account transfer, changing or removing a booked row, the revisions made, and the
number of login attempts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from connectors.sandbox import errors
from connectors.sandbox.errors import ObpError
from connectors.sandbox.models import Party, Transaction
from connectors.sandbox.obp_json import ObpJSONResponse, iso
from connectors.sandbox.revisions import Revision
from connectors.sandbox.web import bank_of, json_object


def row_json(row: Transaction) -> dict[str, Any]:
    party = row.counterparty
    return {
        "account_id": row.account_id,
        "transaction_id": row.id,
        "amount_minor": row.amount_minor,
        "new_balance_minor": row.new_balance_minor,
        "status": row.status,
        "posted": iso(row.posted),
        "counterparty": None if party is None else party.name,
    }


def _revision_json(revision: Revision) -> dict[str, Any]:
    return {
        "transaction_id": revision.transaction_id,
        "kind": revision.kind,
        "at": iso(revision.at),
        "before": row_json(revision.before),
        "after": None if revision.after is None else row_json(revision.after),
    }


def _text(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise ObpError(errors.INVALID_JSON, f"{name} is required.")
    return value


def _optional_int(body: dict[str, Any], name: str) -> int | None:
    value = body.get(name)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise ObpError(errors.INVALID_JSON, f"{name} must be an integer.")
    return value


def _posted(body: dict[str, Any]) -> datetime | None:
    text = body.get("posted")
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(str(text))
    except ValueError:
        raise ObpError(errors.INVALID_JSON, "posted must be an ISO 8601 instant.") from None
    if moment.tzinfo is None:
        raise ObpError(errors.INVALID_JSON, "posted needs a time zone (Z).")
    return moment


def _counterparty(body: dict[str, Any]) -> Party | None:
    value = body.get("counterparty")
    if value is None:
        return None
    fields = ("name", "account", "bank", "country")
    if (
        not isinstance(value, dict)
        or not isinstance(value.get("name"), str)
        or not all(value.get(f) is None or isinstance(value[f], str) for f in fields)
    ):
        raise ObpError(errors.INVALID_JSON, "counterparty needs a name (account, bank, country).")
    return Party(value["name"], value.get("account"), value.get("bank"), value.get("country"))


def _row_call(body: dict[str, Any], request: Request) -> tuple[str, str]:
    account_id, transaction_id = _text(body, "account_id"), _text(body, "transaction_id")
    if bank_of(request).account(account_id) is None:
        raise ObpError(errors.ACCOUNT_NOT_FOUND)
    return account_id, transaction_id


async def own_transfer(request: Request) -> Response:
    body = await json_object(request)
    source, target = _text(body, "from_account_id"), _text(body, "to_account_id")
    bank = bank_of(request)
    if bank.account(source) is None or bank.account(target) is None:
        raise ObpError(errors.ACCOUNT_NOT_FOUND)
    amount = _optional_int(body, "amount_minor")
    if amount is None:
        raise ObpError(errors.INVALID_JSON, "amount_minor is required.")
    try:
        debit, credit = bank.own_transfer(source, target, amount)
    except ValueError as exc:
        raise ObpError(errors.INVALID_JSON, str(exc)) from None
    return ObpJSONResponse({"debit": row_json(debit), "credit": row_json(credit)}, 201)


async def change_booked(request: Request) -> Response:
    body = await json_object(request)
    account_id, transaction_id = _row_call(body, request)
    try:
        changed = bank_of(request).change_booked(
            account_id,
            transaction_id,
            amount_minor=_optional_int(body, "amount_minor"),
            posted=_posted(body),
            counterparty=_counterparty(body),
            description=body.get("description")
            if isinstance(body.get("description"), str)
            else None,
        )
    except KeyError:
        raise ObpError(errors.TRANSACTION_NOT_FOUND) from None
    except ValueError as exc:
        raise ObpError(errors.INVALID_JSON, str(exc)) from None
    return ObpJSONResponse({"transaction": row_json(changed)})


async def remove_booked(request: Request) -> Response:
    body = await json_object(request)
    account_id, transaction_id = _row_call(body, request)
    try:
        removed = bank_of(request).remove_booked(account_id, transaction_id)
    except KeyError:
        raise ObpError(errors.TRANSACTION_NOT_FOUND) from None
    except ValueError as exc:
        raise ObpError(errors.INVALID_JSON, str(exc)) from None
    return ObpJSONResponse({"removed": row_json(removed)})


async def revisions(request: Request) -> Response:
    account_id = request.path_params["account_id"]
    bank = bank_of(request)
    if bank.account(account_id) is None:
        raise ObpError(errors.ACCOUNT_NOT_FOUND)
    return ObpJSONResponse(
        {"revisions": [_revision_json(r) for r in bank.revisions_of(account_id)]}
    )


async def logins(request: Request) -> Response:
    return ObpJSONResponse({"login_attempts": bank_of(request).login_attempts})


def record_routes(prefix: str) -> list[Route]:
    return [
        Route(f"{prefix}/own-transfer", own_transfer, methods=["POST"]),
        Route(f"{prefix}/change-booked", change_booked, methods=["POST"]),
        Route(f"{prefix}/remove-booked", remove_booked, methods=["POST"]),
        Route(f"{prefix}/revisions/{{account_id}}", revisions),
        Route(f"{prefix}/logins", logins),
    ]
