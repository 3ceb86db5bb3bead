"""Consent requests: what an application asks a customer to grant, before the customer is known.

OBP's flow (v5.0.0+): the registered consumer posts a PostConsentRequestJsonV500; the bank
keeps its body as the request's `payload`; the customer, logged in at the bank, turns it into
a consent (SMS / EMAIL / IMPLICIT challenge) that the consumer then fetches by request id.
A request yields at most one consent. Requests live next to the consents in the bank's own
SQLite file, so a restarted bank still knows them.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from connectors.sandbox import errors
from connectors.sandbox.errors import ObpError

# OBP's AccountRoutingJsonV121 schemes the sandbox can resolve to one of its accounts.
ROUTING_SCHEMES = ("AccountNumber", "AccountId")


@dataclass(frozen=True, slots=True)
class AccountAccess:
    scheme: str
    address: str
    view_id: str


@dataclass(frozen=True, slots=True)
class RequestedAccess:
    """A PostConsentRequestJsonV500, checked."""

    everything: bool
    bank_id: str | None
    account_access: tuple[AccountAccess, ...]
    consumer_id: str | None
    email: str | None
    phone_number: str | None
    valid_from: datetime | None
    time_to_live: int | None


@dataclass
class ConsentRequest:
    consent_request_id: str
    consumer_key: str
    consumer_id: str
    payload: dict[str, Any]
    created_at: datetime
    consent_id: str | None = None  # set once the customer answered it

    @property
    def access(self) -> RequestedAccess:
        return parse_request(self.payload)


def _optional_text(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise ObpError(errors.INVALID_JSON, f"{name} must be a string.")
    return value


def _account_access(items: object) -> tuple[AccountAccess, ...]:
    if not isinstance(items, list):
        raise ObpError(errors.INVALID_JSON, "account_access is required (a list).")
    parsed = []
    for item in items:
        routing = item.get("account_routing") if isinstance(item, dict) else None
        if (
            not isinstance(routing, dict)
            or not isinstance(routing.get("scheme"), str)
            or not isinstance(routing.get("address"), str)
            or not isinstance(item.get("view_id"), str)
        ):
            raise ObpError(
                errors.INVALID_JSON,
                "each account_access needs account_routing {scheme, address} and view_id.",
            )
        if routing["scheme"] not in ROUTING_SCHEMES:
            raise ObpError(
                errors.INVALID_JSON, f"account_routing.scheme must be one of {ROUTING_SCHEMES}."
            )
        parsed.append(AccountAccess(routing["scheme"], routing["address"], item["view_id"]))
    return tuple(parsed)


def parse_request(body: dict[str, Any]) -> RequestedAccess:
    """Check a PostConsentRequestJsonV500 body's shape; OBP-10001 names what is wrong."""
    everything = body.get("everything")
    if not isinstance(everything, bool):
        raise ObpError(errors.INVALID_JSON, "everything is required (a boolean).")
    access = _account_access(body.get("account_access"))
    if not everything and not access:
        raise ObpError(errors.INVALID_JSON, "name at least one account_access, or everything.")
    entitlements = body.get("entitlements")
    if entitlements is not None and not isinstance(entitlements, list):
        raise ObpError(errors.INVALID_JSON, "entitlements must be a list.")
    if entitlements:
        raise ObpError(errors.ROLES_IN_CONSENT)
    ttl = body.get("time_to_live")
    if ttl is not None and (isinstance(ttl, bool) or not isinstance(ttl, int)):
        raise ObpError(errors.INVALID_JSON, "time_to_live must be an integer.")
    valid_from = None
    if body.get("valid_from") is not None:
        try:
            valid_from = datetime.fromisoformat(str(body["valid_from"]))
        except ValueError:
            raise ObpError(
                errors.INVALID_JSON, "valid_from must be yyyy-MM-ddTHH:mm:ssZ."
            ) from None
        if valid_from.tzinfo is None:
            raise ObpError(errors.INVALID_JSON, "valid_from needs a time zone (Z).")
    return RequestedAccess(
        everything=everything,
        bank_id=_optional_text(body, "bank_id"),
        account_access=access,
        consumer_id=_optional_text(body, "consumer_id"),
        email=_optional_text(body, "email"),
        phone_number=_optional_text(body, "phone_number"),
        valid_from=valid_from,
        time_to_live=ttl,
    )


_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS consent_request "
    "(consent_request_id TEXT PRIMARY KEY, body TEXT NOT NULL)"
)


class ConsentRequestBook:
    """The bank's consent requests by id, written through to `path` when one is given."""

    def __init__(self, path: Path | None) -> None:
        self._db = sqlite3.connect(path) if path is not None else None
        self._requests: dict[str, ConsentRequest] = {}
        if self._db is None:
            return
        self._db.execute(_SCHEMA)
        self._db.commit()
        for request_id, text in self._db.execute(
            "SELECT consent_request_id, body FROM consent_request"
        ):
            body = json.loads(text)
            body["created_at"] = datetime.fromisoformat(body["created_at"])
            self._requests[request_id] = ConsentRequest(**body)

    def get(self, consent_request_id: str) -> ConsentRequest | None:
        return self._requests.get(consent_request_id)

    def keep(self, request: ConsentRequest) -> None:
        self._requests[request.consent_request_id] = request
        if self._db is None:
            return
        body = {
            "consent_request_id": request.consent_request_id,
            "consumer_key": request.consumer_key,
            "consumer_id": request.consumer_id,
            "payload": request.payload,
            "created_at": request.created_at.isoformat(),
            "consent_id": request.consent_id,
        }
        self._db.execute(
            "INSERT INTO consent_request (consent_request_id, body) VALUES (?, ?) "
            "ON CONFLICT (consent_request_id) DO UPDATE SET body = excluded.body",
            (request.consent_request_id, json.dumps(body, sort_keys=True)),
        )
        self._db.commit()
