"""OBP vocabularies -> ours: transaction, account, balance and transfer types and statuses.

Each table is documented in docs/connectors.md; change both together.
"""

from __future__ import annotations

from connectors.obp.fields import MappingError
from ledger.money import Money

ACCOUNT_TYPES = frozenset({"WALLET", "CURRENT", "SAVINGS", "DEPOSIT", "CARD", "LOAN"})
# Common product_code / account_type spellings at OBP banks (and ISO 20022 cash account types).
ACCOUNT_TYPE_ALIASES = {
    "CURRENT_ACCOUNT": "CURRENT",
    "CHECKING": "CURRENT",
    "CACC": "CURRENT",
    "SAVINGS_ACCOUNT": "SAVINGS",
    "SVGS": "SAVINGS",
    "TERM_DEPOSIT": "DEPOSIT",
    "CARD_ACCOUNT": "CARD",
    "E_WALLET": "WALLET",
    "EWALLET": "WALLET",
    "LOAN_ACCOUNT": "LOAN",
    "CREDIT": "LOAN",
}
DEFAULT_ACCOUNT_TYPE = "CURRENT"

TRANSACTION_TYPES = frozenset(
    {
        "CARD_PAYMENT",
        "TRANSFER_IN",
        "TRANSFER_OUT",
        "INTERNATIONAL_TRANSFER",
        "SERVICE_PAYMENT",
        "CASH_WITHDRAWAL",
        "TOP_UP",
        "CURRENCY_EXCHANGE",
        "INSTALLMENT",
        "CASHBACK",
        "FEE",
        "SALARY",
        "OTHER",
    }
)
# OBP transaction-request types that move money between accounts: the sign says which way.
OBP_TRANSFER_TYPES = frozenset(
    {
        "ACCOUNT",
        "ACCOUNT_OTP",
        "COUNTERPARTY",
        "SEPA",
        "SANDBOX_TAN",
        "FREE_FORM",
        "SIMPLE",
        "REFUND",
        "TRANSFER_TO_PHONE",
        "TRANSFER_TO_ATM",
        "TRANSFER_TO_ACCOUNT",
        "TRANSFER_TO_REFERENCE_ACCOUNT",
    }
)

# OBP TransactionRequestStatus -> our TransferStatus.
TRANSFER_STATUSES = {
    "INITIATED": "CREATED",
    "PENDING": "PENDING",
    "NEXT_CHALLENGE_PENDING": "PENDING",
    "FORWARDED": "PENDING",
    "COMPLETED": "COMPLETED",
    "FAILED": "FAILED",
    "REJECTED": "FAILED",
    "CANCELLED": "CANCELLED",
    "CANCELLATION_PENDING": "CANCELLED",
}
FINAL_TRANSFER_STATUSES = frozenset({"COMPLETED", "FAILED", "CANCELLED", "RETURNED"})
# OBP transaction-request type -> rail. Account-to-account types at one bank are DOMESTIC.
TRANSFER_RAILS = {
    "VISA_DIRECT": "VISA_DIRECT",
    "SWIFT": "SWIFT",
    "CARD_TO_CARD": "CARD_TO_CARD",
    **{t: "DOMESTIC" for t in OBP_TRANSFER_TYPES - {"SEPA"}},
}


def upper_key(text: str) -> str:
    return text.strip().upper().replace("-", "_").replace(" ", "_")


def transaction_type(obp_type: str | None, amount: Money) -> str:
    """A TransactionType name as is; a known OBP transfer type by sign; anything else OTHER."""
    key = upper_key(obp_type) if obp_type else ""
    if key in TRANSACTION_TYPES:
        return key
    if key in OBP_TRANSFER_TYPES and amount.minor:
        return "TRANSFER_OUT" if amount.is_negative else "TRANSFER_IN"
    return "OTHER"


def account_type(*candidates: str | None) -> str:
    """The first candidate (product_code, account_type) that names a known type."""
    for candidate in candidates:
        key = upper_key(candidate) if candidate else ""
        if key in ACCOUNT_TYPES:
            return key
        if key in ACCOUNT_TYPE_ALIASES:
            return ACCOUNT_TYPE_ALIASES[key]
    return DEFAULT_ACCOUNT_TYPE


def balance_type(obp_type: str | None) -> str:
    """OBP, Berlin Group and UK balance names -> BOOKED / AVAILABLE.

    No type at all is the account's plain `balance`, which OBP keeps as the booked one.
    """
    if obp_type is None:
        return "BOOKED"
    lowered = obp_type.lower()
    if "available" in lowered or lowered == "expected":
        return "AVAILABLE"
    if "booked" in lowered or "cleared" in lowered:
        return "BOOKED"
    raise MappingError(f"unknown balance type {obp_type[:40]!r}")


def transfer_status(obp_status: str) -> str:
    try:
        return TRANSFER_STATUSES[obp_status.upper()]
    except KeyError:
        raise MappingError(f"unknown transaction request status {obp_status[:40]!r}") from None
