"""Alif's `transaction_attributes` vocabulary, read strictly.

Attributes are `[{"name": ..., "value": ...}]`. Names outside the vocabulary are ignored
(Alif may add some); a known name with a malformed value raises MappingError, which
quarantines the transaction, because every value here changes what the ledger records.
The one lenient field is CATEGORY: an unknown key is dropped and enrichment categorizes
the transaction instead, as a new category should not hide a valid payment.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, NamedTuple

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


# A NamedTuple: a sync reads one a row, and a frozen dataclass of 15 fields costs ~3 µs to
# build (each field set through object.__setattr__).
class AlifAttributes(NamedTuple):
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


NO_ATTRIBUTES = AlifAttributes()


def _collect(raw: list[Any]) -> dict[str, str]:
    """Known names -> string values as sent; "" counts as absent; the last one wins."""
    values: dict[str, str] = {}
    for index, entry in enumerate(raw):
        if type(entry) is not dict:  # obj()'s check, without building its label per entry
            obj(entry, f"transaction_attributes[{index}]")
        name = entry.get("name")
        # A name that is no string is no name we know (an object or list would not even
        # hash): ignored like any unknown one, not a crash of the whole page.
        if type(name) is str and name in ATTRIBUTE_NAMES:
            value = entry.get("value")
            if value is None:
                continue
            if not isinstance(value, str):
                raise MappingError(f"attribute {name} is not a string")
            if value:
                values[name] = value
    return values


def _unknown(name: str, value: str) -> MappingError:
    return MappingError(f"attribute {name} has an unknown value {value[:40]!r}")


def _autopay(value: str) -> bool:
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


def _fx_rate(text: str) -> Decimal:
    rate = decimal(text, "attribute FX_RATE")
    if rate <= 0:
        raise MappingError("attribute FX_RATE must be positive")
    return rate


def read_attributes(raw: list[Any]) -> AlifAttributes:
    """The attributes, each checked in this order (the first bad one is the reason)."""
    values = _collect(raw)
    if not values:
        return NO_ATTRIBUTES
    get = values.get
    status, type_, mcc = get("STATUS"), get("TYPE"), get("MCC")
    if status is not None and status not in _BOOKING_STATUSES:
        raise _unknown("STATUS", status)
    if type_ is not None and type_ not in TRANSACTION_TYPES:
        raise _unknown("TYPE", type_)
    if mcc is not None and not _MCC_RE.match(mcc):
        raise MappingError("attribute MCC must be four digits")
    autopay = get("AUTOPAY")
    fx_rate = get("FX_RATE")
    category = get("CATEGORY")
    return AlifAttributes(
        status,
        type_,
        mcc,
        get("MERCHANT_NAME"),
        category if category in CATEGORY_KEYS else None,
        get("SERVICE_PROVIDER"),
        get("SERVICE_ACCOUNT"),
        get("SERVICE_PAYMENT_ID"),
        None if autopay is None else _autopay(autopay),
        _original_amount(values),
        None if fx_rate is None else _fx_rate(fx_rate),
        get("TRANSFER_ID"),
        get("CARD_ID"),
        _country(get("COUNTERPARTY_COUNTRY")),
        get("PENDING_TRANSACTION_ID"),
    )


def _country(value: str | None) -> str | None:
    if value is not None and not _COUNTRY_RE.match(value):
        raise MappingError("attribute COUNTERPARTY_COUNTRY must be an ISO 3166 alpha-2 code")
    return value
