"""Alif's `transaction_attributes` vocabulary, read strictly.

Attributes are `[{"name": ..., "value": ...}]`. Names outside the vocabulary are ignored
(Alif may add some); a known name with a malformed value raises MappingError, which
quarantines the transaction, because every value here changes what the ledger records.
The one lenient field is CATEGORY: an unknown key is dropped and enrichment categorizes
the transaction instead, as a new category should not hide a valid payment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from connectors.obp.fields import MappingError, decimal, money, obj
from connectors.obp.vocabulary import TRANSACTION_TYPES
from ledger.money import Money

ATTRIBUTE_NAMES = frozenset(
    {
        "STATUS",
        "TYPE",
        "MCC",
        "MERCHANT_NAME",
        "CATEGORY",
        "SERVICE_PROVIDER",
        "SERVICE_ACCOUNT",
        "SERVICE_PAYMENT_ID",
        "AUTOPAY",
        "ORIGINAL_AMOUNT",
        "ORIGINAL_CURRENCY",
        "FX_RATE",
        "TRANSFER_ID",
        "CARD_ID",
        "COUNTERPARTY_COUNTRY",
        "PENDING_TRANSACTION_ID",
    }
)
CATEGORY_KEYS = frozenset(
    {
        "groceries",
        "restaurants",
        "transport",
        "mobile",
        "internet",
        "utilities",
        "electricity",
        "water",
        "transfers",
        "cash_withdrawal",
        "shopping",
        "health",
        "education",
        "taxes_fines",
        "gov_services",
        "installments",
        "cashback",
        "fees",
        "salary_income",
        "remittance_in",
    }
)
_BOOKING_STATUSES = frozenset({"BOOKED", "PENDING"})
_MCC_RE = re.compile(r"^\d{4}$")
_COUNTRY_RE = re.compile(r"^[A-Z]{2}$")


@dataclass(frozen=True, slots=True)
class AlifAttributes:
    status: str | None = None
    type: str | None = None
    mcc: str | None = None
    merchant_name: str | None = None
    category: str | None = None
    service_provider: str | None = None
    service_account: str | None = None  # unmasked: mask before it leaves the mapper
    service_payment_id: str | None = None
    autopay: bool | None = None
    original_amount: Money | None = None
    fx_rate: Decimal | None = None
    transfer_id: str | None = None
    card_id: str | None = None
    counterparty_country: str | None = None
    pending_transaction_id: str | None = None


def _collect(raw: list[Any]) -> dict[str, str]:
    """Known names -> string values as sent; "" counts as absent; the last one wins."""
    values: dict[str, str] = {}
    for index, entry in enumerate(raw):
        if not isinstance(entry, dict):  # obj()'s check, without building its label per entry
            obj(entry, f"transaction_attributes[{index}]")
        name, value = entry.get("name"), entry.get("value")
        if name not in ATTRIBUTE_NAMES or value is None:
            continue
        if not isinstance(value, str):
            raise MappingError(f"attribute {name} is not a string")
        if value:
            values[name] = value
    return values


def _one_of(values: dict[str, str], name: str, allowed: frozenset[str]) -> str | None:
    value = values.get(name)
    if value is not None and value not in allowed:
        raise MappingError(f"attribute {name} has an unknown value {value[:40]!r}")
    return value


def _matching(values: dict[str, str], name: str, pattern: re.Pattern[str], rule: str) -> str | None:
    value = values.get(name)
    if value is not None and not pattern.match(value):
        raise MappingError(f"attribute {name} must be {rule}")
    return value


def _autopay(values: dict[str, str]) -> bool | None:
    value = values.get("AUTOPAY")
    if value is None:
        return None
    if value not in ("true", "false"):
        raise MappingError('attribute AUTOPAY must be "true" or "false"')
    return value == "true"


def _original_amount(values: dict[str, str]) -> Money | None:
    amount, currency = values.get("ORIGINAL_AMOUNT"), values.get("ORIGINAL_CURRENCY")
    if amount is None and currency is None:
        return None
    if amount is None or currency is None:
        raise MappingError("attributes ORIGINAL_AMOUNT and ORIGINAL_CURRENCY come together")
    return money(amount, currency, "attribute ORIGINAL_AMOUNT")


def _fx_rate(values: dict[str, str]) -> Decimal | None:
    text = values.get("FX_RATE")
    if text is None:
        return None
    rate = decimal(text, "attribute FX_RATE")
    if rate <= 0:
        raise MappingError("attribute FX_RATE must be positive")
    return rate


def read_attributes(raw: list[Any]) -> AlifAttributes:
    values = _collect(raw)
    category = values.get("CATEGORY")
    return AlifAttributes(
        status=_one_of(values, "STATUS", _BOOKING_STATUSES),
        type=_one_of(values, "TYPE", TRANSACTION_TYPES),
        mcc=_matching(values, "MCC", _MCC_RE, "four digits"),
        merchant_name=values.get("MERCHANT_NAME"),
        category=category if category in CATEGORY_KEYS else None,
        service_provider=values.get("SERVICE_PROVIDER"),
        service_account=values.get("SERVICE_ACCOUNT"),
        service_payment_id=values.get("SERVICE_PAYMENT_ID"),
        autopay=_autopay(values),
        original_amount=_original_amount(values),
        fx_rate=_fx_rate(values),
        transfer_id=values.get("TRANSFER_ID"),
        card_id=values.get("CARD_ID"),
        counterparty_country=_matching(
            values, "COUNTERPARTY_COUNTRY", _COUNTRY_RE, "an ISO 3166 alpha-2 code"
        ),
        pending_transaction_id=values.get("PENDING_TRANSACTION_ID"),
    )
