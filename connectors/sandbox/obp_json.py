"""JSON exactly as OBP shapes it: string amounts, `...Z` dates, null for empty fields."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import orjson
from starlette.responses import JSONResponse

from connectors.sandbox.bank import OWNER_VIEW, Consent
from connectors.sandbox.catalog import (
    ALIF_BANK_CODE,
    ALIF_BIC,
    ALIF_FULL_NAME,
    ALIF_LOGO,
    ALIF_WEBSITE,
)
from connectors.sandbox.config import FaultConfig
from connectors.sandbox.consent_requests import ConsentRequest
from connectors.sandbox.ids import uuid_from
from connectors.sandbox.models import (
    Account,
    Card,
    Counterparty,
    Customer,
    Party,
    Transaction,
    Transfer,
)
from connectors.sandbox.money import format_minor

API_VERSION = "v5.1.0"
_ROUTED_SCHEMES = ("AccountNumber", "IBAN")
_BIC_RE = re.compile(r"^[A-Z]{6}[A-Z0-9]{2}(?:[A-Z0-9]{3})?$")


# Stands for the bare literal NaN (no JSON encoder writes one) until the body is rendered.
BARE_NAN = "\x00bare NaN\x00"
_BARE_NAN_JSON = orjson.dumps(BARE_NAN)
MAX_NAME_LENGTH = 255  # OBP's column sizes
MAX_DESCRIPTION_LENGTH = 2000
_FILLER = "Ҳисоби ҷорӣ: пардохти қарз, ғизо ва ӯҳдадориҳои моҳона; "


class ObpJSONResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return orjson.dumps(content).replace(_BARE_NAN_JSON, b"NaN")


def iso(moment: datetime | None) -> str | None:
    """`yyyy-MM-dd'T'HH:mm:ss'Z'`, as OBP's lift DefaultFormats writes dates."""
    return None if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def money(minor: int, currency: str) -> dict[str, str]:
    return {"currency": currency, "amount": format_minor(minor, currency)}


def error_body(status: int, message: str) -> dict[str, Any]:
    return {"code": status, "message": message}


def _or_null(value: str | None) -> str | None:
    return value or None  # OBP turns empty strings into null


def _routings(account: Account) -> list[dict[str, str]]:
    return [{"scheme": "AccountNumber", "address": account.number}]


def _bank_scheme(bank: str | None) -> str | None:
    """BIC for a BIC; a money-transfer system or card network goes by name."""
    if bank is None:
        return None
    return "BIC" if _BIC_RE.match(bank) else "Name"


def _party_routings(party: Party | None) -> list[dict[str, str]]:
    if party is None or party.account is None or party.account_scheme not in _ROUTED_SCHEMES:
        return []
    return [{"scheme": party.account_scheme, "address": party.account}]


_OWNER_VIEW_JSON = {
    "id": OWNER_VIEW,
    "short_name": "Owner",
    "description": "The account owner's view",
    "is_public": False,
}


def view_basic(view_id: str) -> dict[str, Any]:
    """ViewBasicV300. Other system views are named as OBP names them (capitalised id,
    the id as description)."""
    if view_id == OWNER_VIEW:
        return dict(_OWNER_VIEW_JSON)
    return {
        "id": view_id,
        "short_name": view_id.capitalize(),
        "description": view_id,
        "is_public": False,
    }


def view(view_id: str) -> dict[str, Any]:
    """ViewJsonV500, with the permissions a client needs to choose a view; every view
    served here sees whole transactions."""
    owner = view_id == OWNER_VIEW
    grants = [OWNER_VIEW, "accountant", "auditor"] if owner else []
    return {
        **view_basic(view_id),
        "metadata_view": view_id,
        "is_system": True,
        "is_firehose": False,
        "alias": "private",
        "hide_metadata_if_alias_used": False,
        "can_grant_access_to_views": grants,
        "can_revoke_access_to_views": grants,
        "can_see_bank_account_balance": True,
        "can_see_transaction_amount": True,
        "can_see_transaction_balance": True,
        "can_see_transaction_currency": True,
        "can_see_transaction_description": True,
        "can_see_transaction_start_date": True,
        "can_see_transaction_finish_date": True,
        "can_see_transaction_this_bank_account": True,
        "can_see_transaction_other_bank_account": True,
        "can_see_transaction_type": True,
        "can_add_transaction_request_to_own_account": owner,
        "can_add_transaction_request_to_any_account": owner,
    }


def root(hostname: str) -> dict[str, Any]:
    return {
        "version": API_VERSION,
        "version_status": "BLEEDING_EDGE",
        "git_commit": "alif-sandbox",
        "stage": "sandbox",
        "connector": "alif_sandbox",
        "hostname": hostname,
        "local_identity_provider": hostname,
        "hosted_by": {
            "organisation": "Alif Bank sandbox (simulated)",
            "email": None,
            "phone": None,
            "organisation_website": ALIF_WEBSITE,
        },
        "hosted_at": {"organisation": "localhost", "organisation_website": None},
        "energy_source": {"organisation": None, "organisation_website": None},
        "resource_docs_requires_role": False,
    }


def _bank_routings() -> list[dict[str, str]]:
    return [
        {"scheme": "BIC", "address": ALIF_BIC},
        {"scheme": "BankCode", "address": ALIF_BANK_CODE},
    ]


def _bank_attributes() -> list[dict[str, str]]:
    return [{"name": "COUNTRY", "value": "TJ"}, {"name": "CURRENCY", "value": "TJS"}]


def _bank_details() -> dict[str, Any]:
    """What the bank list and the single bank both say about Alif."""
    return {
        "full_name": ALIF_FULL_NAME,
        "logo": ALIF_LOGO,
        "website": ALIF_WEBSITE,
        "bank_routings": _bank_routings(),
        "attributes": _bank_attributes(),
    }


def bank_list_item(bank_id: str) -> dict[str, Any]:
    return {"id": bank_id, "short_name": "Alif", **_bank_details()}


def bank(bank_id: str) -> dict[str, Any]:
    return {"id": bank_id, "bank_code": ALIF_BANK_CODE, **_bank_details()}


def user(customer: Customer) -> dict[str, Any]:
    return {
        "user_id": customer.user_id,
        "email": customer.email,
        "provider_id": customer.username,
        "provider": "https://alif-sandbox.local",
        "username": customer.username,
        "entitlements": {"list": []},
        "views": None,
        "agreements": [],
        "is_deleted": False,
        "last_marketing_agreement_signed_date": None,
        "is_locked": False,
    }


def my_account(account: Account, view_id: str = OWNER_VIEW) -> dict[str, Any]:
    """CoreAccountJson (v3.0.0, served by v5.1.0), for GET /my/accounts: the user's views
    on the account are in `views` (OBP has no `views_available` here)."""
    return {
        "id": account.id,
        "label": account.label,
        "bank_id": account.bank_id,
        "account_type": account.product_code,
        "account_routings": _routings(account),
        "views": [view_basic(view_id)],
    }


def account_held(account: Account) -> dict[str, Any]:
    return {
        "id": account.id,
        "label": account.label,
        "bank_id": account.bank_id,
        "number": account.number,
        "account_routings": _routings(account),
    }


def core_account(
    account: Account, booked_minor: int, view_id: str = OWNER_VIEW, opening_minor: int | None = None
) -> dict[str, Any]:
    """ModeratedCoreAccountJsonV400: the balance is the booked balance. Alif adds the
    balance the account's history starts from as the account attribute OPENING_BALANCE
    (OBP's account attributes: name, type, value)."""
    attributes = []
    if opening_minor is not None:
        value = money(opening_minor, account.currency)["amount"]
        attributes.append({"name": "OPENING_BALANCE", "type": "STRING", "value": value})
    return {
        "id": account.id,
        "bank_id": account.bank_id,
        "label": account.label,
        "number": account.number,
        "product_code": account.product_code,
        "balance": money(booked_minor, account.currency),
        "account_routings": _routings(account),
        "views_basic": [view_id],
        "account_attributes": attributes,
    }


def balances(account: Account, booked_minor: int, available_minor: int) -> dict[str, Any]:
    """OBP labels the booked balance OpeningBooked; InterimAvailable also subtracts holds."""
    return {
        "account_id": account.id,
        "bank_id": account.bank_id,
        "account_routings": _routings(account),
        "label": account.label,
        "balances": [
            {"type": "OpeningBooked", **money(booked_minor, account.currency)},
            {"type": "InterimAvailable", **money(available_minor, account.currency)},
        ],
    }


def at_length(text: str, length: int) -> str:
    """`text` padded with Tajik words to exactly `length` characters, ending in a letter."""
    padded = (text + " " + _FILLER * (length // len(_FILLER) + 1))[:length]
    return padded if not padded[-1].isspace() else padded[:-1] + "ӣ"


def _record_faults(item: dict[str, Any], transaction_id: str, faults: FaultConfig) -> None:
    details = item["details"]
    if transaction_id in faults.hidden_dates:
        details["posted"] = details["completed"] = None
    if transaction_id in faults.max_length_fields:
        holder = item["other_account"]["holder"]
        holder["name"] = at_length(holder["name"] or "Ҳамкор", MAX_NAME_LENGTH)
        details["description"] = at_length(details["description"] or "", MAX_DESCRIPTION_LENGTH)
    if transaction_id in faults.bare_nan_records:
        details["value"]["amount"] = BARE_NAN


def transaction(
    account: Account,
    transaction: Transaction,
    amount_override: str | None = None,
    faults: FaultConfig | None = None,
) -> dict[str, Any]:
    """TransactionJsonV300, with Alif's extras as transaction_attributes; `faults` are
    the record faults to serve it with."""
    value = money(transaction.amount_minor, transaction.currency)
    if amount_override is not None:
        value["amount"] = amount_override
    item = _transaction(account, transaction, value)
    if faults is not None:
        _record_faults(item, transaction.id, faults)
    return item


def _transaction(
    account: Account, transaction: Transaction, value: dict[str, str]
) -> dict[str, Any]:
    party = transaction.counterparty
    new_balance = transaction.new_balance_minor
    return {
        "id": transaction.id,
        "this_account": {
            "id": account.id,
            "bank_routing": {"scheme": "OBP", "address": account.bank_id},
            "account_routings": _routings(account),
            "holders": [{"name": account.holder_name, "is_alias": False}],
        },
        "other_account": {
            "id": uuid_from("other-account", account.id, party.name if party else ""),
            "holder": {"name": party.name if party else None, "is_alias": False},
            "bank_routing": {
                "scheme": _bank_scheme(party.bank if party else None),
                "address": party.bank if party else None,
            },
            "account_routings": _party_routings(party),
            "metadata": {
                "public_alias": None,
                "private_alias": None,
                "more_info": None,
                "URL": None,
                "image_URL": None,
                "open_corporates_URL": None,
                "corporate_location": None,
                "physical_location": None,
            },
        },
        "details": {
            "type": transaction.type,
            "description": _or_null(transaction.description),
            "posted": iso(transaction.posted),
            "completed": iso(transaction.completed),
            "new_balance": None if new_balance is None else money(new_balance, account.currency),
            "value": value,
        },
        "metadata": {"narrative": None, "comments": [], "tags": [], "images": [], "where": None},
        "transaction_attributes": [
            {
                "transaction_attribute_id": uuid_from("attribute", transaction.id, name),
                "name": name,
                "type": "STRING",
                "value": value_,
            }
            for name, value_ in transaction.attributes
        ],
    }


def card(card: Card, account: Account) -> dict[str, Any]:
    """PhysicalCardJSON (v1.3.0) plus card_id; the number is sent in full, as OBP does."""
    replacement = None
    if card.replacement_reason is not None:
        replacement = {
            "requested_date": iso(card.replacement_date),
            "reason_requested": card.replacement_reason,
        }
    return {
        "card_id": card.card_id,
        "bank_id": account.bank_id,
        "bank_card_number": card.number,
        "name_on_card": card.name_on_card,
        "issue_number": card.issue_number,
        "serial_number": card.serial_number,
        "valid_from_date": iso(card.valid_from),
        "expires_date": iso(card.expires),
        "enabled": card.enabled,
        "cancelled": card.cancelled,
        "on_hot_list": card.on_hot_list,
        "technology": card.technology,
        "networks": [card.network],
        "allows": ["debit", "cash_withdrawal"],
        "account": {
            "id": account.id,
            "label": account.label,
            "views_available": [_OWNER_VIEW_JSON],
            "bank_id": account.bank_id,
        },
        "replacement": replacement,
        "pin_reset": [],
        "collected": iso(card.collected),
        "posted": iso(card.posted),
    }


def transfer(transfer: Transfer, bank_id: str) -> dict[str, Any]:
    """TransactionRequestWithChargeJSON; Alif's extras live inside `details`.

    `value` is what this account gave or got (without the fee); `source_value` and
    `destination_value` are the sender's and the recipient's legs, and the foreign leg
    times `fx_rate` is `value`, rounded half-even.
    """
    own = money(transfer.amount_minor, transfer.currency)
    foreign = own
    if transfer.foreign_currency is not None and transfer.foreign_minor is not None:
        foreign = money(transfer.foreign_minor, transfer.foreign_currency)
    outbound = transfer.direction == "OUTBOUND"
    party = transfer.counterparty
    return {
        "id": transfer.id,
        "type": transfer.type,
        "from": {"bank_id": bank_id, "account_id": transfer.account_id},
        "details": {
            "to": {
                "name": party.name,
                "account": party.account,
                "bank": party.bank,
                "country": party.country,
            },
            "value": own,
            "description": transfer.description,
            "direction": transfer.direction,
            "rail": transfer.rail,
            "corridor": transfer.corridor,
            "source_value": own if outbound else foreign,
            "destination_value": foreign if outbound else own,
            "fx_rate": None if transfer.fx_rate is None else format(transfer.fx_rate, "f"),
            "status_history": [
                {"status": e.status, "at": iso(e.at), "note": e.note} for e in transfer.history
            ],
        },
        "transaction_ids": list(transfer.transaction_ids),
        "status": transfer.status,
        "start_date": iso(transfer.start_date),
        "end_date": iso(transfer.end_date),
        "challenge": {"id": None, "allowed_attempts": None, "challenge_type": None},
        "charge": {
            "summary": transfer.fee_summary if transfer.fee_minor else "No charge",
            "value": money(transfer.fee_minor, transfer.currency),
        },
    }


def counterparty(item: Counterparty, bank_id: str, created_by: str) -> dict[str, Any]:
    party = item.party
    return {
        "name": party.name,
        "description": item.description,
        "currency": item.currency,
        "created_by_user_id": created_by,
        "this_bank_id": bank_id,
        "this_account_id": item.account_id,
        "this_view_id": OWNER_VIEW,
        "counterparty_id": item.id,
        "other_bank_routing_scheme": _bank_scheme(party.bank),
        "other_bank_routing_address": party.bank,
        "other_branch_routing_scheme": None,
        "other_branch_routing_address": None,
        "other_account_routing_scheme": party.account_scheme if party.account else None,
        "other_account_routing_address": party.account,
        "other_account_secondary_routing_scheme": None,
        "other_account_secondary_routing_address": None,
        "is_beneficiary": True,
        "bespoke": [{"key": "country", "value": party.country}] if party.country else [],
    }


def consent(item: Consent) -> dict[str, Any]:
    return {"consent_id": item.consent_id, "jwt": item.jwt, "status": item.status}


def consent_list_item(item: Consent) -> dict[str, Any]:
    return {**consent(item), "api_standard": "obp", "api_version": API_VERSION}


def consent_request(item: ConsentRequest) -> dict[str, Any]:
    """ConsentRequestResponseJson."""
    return {
        "consent_request_id": item.consent_request_id,
        "payload": item.payload,
        "consumer_id": item.consumer_id,
    }


def consent_v500(
    item: Consent, consent_request_id: str, *, with_jwt: bool = True
) -> dict[str, Any]:
    """ConsentJsonV500; the consumer is shown the JWT only once the customer accepted."""
    shown = with_jwt or item.status == "ACCEPTED"
    return {
        **consent(item),
        "jwt": item.jwt if shown else None,
        "consent_request_id": consent_request_id,
    }
