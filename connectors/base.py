"""The provider-neutral connector interface and the normalized records it yields.

A connector turns one upstream bank's wire format into these records; the sync engine
writes them into the ledger without knowing which bank they came from. A consent broker is
the bank's side of linking: the bank challenges the customer, and the right answer turns
into credentials a connector can sync with. Money is already
exact (`ledger.money.Money`), card numbers are already masked, and a record that could
not be mapped arrives as a `SyncIssue` instead of an exception, so its siblings survive.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Generic, Protocol, TypeVar

import msgspec

from connectors.credentials import Credentials
from ledger.money import Money


@dataclass(frozen=True, slots=True)
class SyncIssue:
    """A record the connector could not map; stored with the reason, never silently dropped."""

    kind: str  # "transaction", "account", "page", ...
    external_id: str | None
    reason: str
    # A short, already-redacted excerpt of what arrived (never a full card number or token).
    excerpt: str = ""


@dataclass(frozen=True, slots=True)
class AccountRecord:
    external_id: str
    bank_id: str
    name: str
    type: str  # WALLET CURRENT SAVINGS DEPOSIT CARD LOAN
    currency: str
    number: str | None  # the bank account number (not a card number)
    product_code: str | None = None
    routings: tuple[tuple[str, str], ...] = ()
    # The balance the bank says the account's history starts from (before its first
    # transaction), when it says so: the evidence that no earliest row is lost
    # (ledger/reconciliation.py, the opening). Plain OBP reports none.
    opening: Money | None = None


@dataclass(frozen=True, slots=True)
class BalanceRecord:
    account_external_id: str
    type: str  # BOOKED AVAILABLE
    amount: Money
    as_of: datetime


@dataclass(frozen=True, slots=True)
class CardRecord:
    external_id: str
    account_external_id: str | None
    scheme: str  # VISA MASTERCARD KORTI_MILLI UNIONPAY OTHER
    pan_masked: str  # BIN + last four at most
    holder_name: str | None
    expires_on: str | None  # "MM/YY"
    status: str  # ACTIVE BLOCKED EXPIRED CANCELLED


# The records a sync builds one or two of per upstream row are frozen msgspec Structs: the
# same immutable value with the same repr as a frozen dataclass, built in C (a frozen
# dataclass of 23 fields set each through object.__setattr__, ~3 µs a row).
class TransactionRecord(msgspec.Struct, frozen=True):
    external_id: str
    account_external_id: str
    status: str  # BOOKED PENDING
    booking_date: date | None
    value_date: date | None
    # The bank instant of the row (OBP `details.posted`): date filters, windows and the
    # pending lifecycle work on it.
    booked_at: datetime | None
    amount: Money  # signed: debits negative
    balance_after: Money | None
    type: str  # TransactionType enum name
    description: str | None = None
    counterparty_name: str | None = None
    counterparty_account: str | None = None  # masked
    counterparty_bank: str | None = None
    counterparty_country: str | None = None
    merchant_name: str | None = None
    mcc: str | None = None
    category: str | None = None  # category key from the provider, if it sent one
    original_amount: Money | None = None
    fx_rate: Decimal | None = None
    card_external_id: str | None = None
    transfer_external_id: str | None = None
    service_payment_external_id: str | None = None
    # The upstream id of the pending transaction this booked one replaces, when the bank says so.
    replaces_external_id: str | None = None


class TransferEventRecord(msgspec.Struct, frozen=True):
    status: str
    at: datetime
    note: str | None = None


class TransferRecord(msgspec.Struct, frozen=True):
    external_id: str
    account_external_id: str
    direction: str  # INBOUND OUTBOUND
    amount: Money
    fee: Money | None
    destination_amount: Money | None
    fx_rate: Decimal | None
    rail: str  # VISA_DIRECT SWIFT MONEY_TRANSFER_SYSTEM CARD_TO_CARD DOMESTIC OTHER
    corridor: str | None  # "RU->TJ"
    counterparty_name: str | None
    counterparty_account: str | None  # masked
    counterparty_country: str | None
    reference: str | None
    status: str  # TransferStatus enum name
    created_at: datetime
    completed_at: datetime | None
    events: tuple[TransferEventRecord, ...] = ()
    # The sender's leg when it differs from `amount` (an inbound remittance paid in RUB).
    source_amount: Money | None = None


class ServicePaymentRecord(msgspec.Struct, frozen=True):
    external_id: str
    account_external_id: str
    transaction_external_id: str | None
    provider: str
    category: str
    service_account_masked: str | None
    amount: Money
    paid_at: datetime
    autopay: bool = False


R = TypeVar("R")


@dataclass(slots=True)
class Page(Generic[R]):
    """One upstream page: mapped records plus the issues found while mapping it."""

    records: list[R] = field(default_factory=list)
    issues: list[SyncIssue] = field(default_factory=list)
    # The upstream position this page was read from, and how many items the bank served.
    offset: int = 0
    raw_count: int = 0
    # The upstream id of each served item in served order (None where none could be read),
    # quarantined ones included: the window reader checks overlaps and duplicates with it.
    positions: list[str | None] = field(default_factory=list)
    # The list's length, when the bank reports it (OBP does not).
    total: int | None = None


# A transactions page lists each service payment right after the transaction it paid.
TransactionPageRecord = TransactionRecord | ServicePaymentRecord


class Connector(Protocol):
    """What the sync engine needs from any bank."""

    # Records asked for per transactions page (the bank may serve fewer).
    page_size: int

    async def accounts(self) -> Page[AccountRecord]: ...

    async def balances(self, account_external_ids: list[str]) -> Page[BalanceRecord]: ...

    async def cards(self) -> Page[CardRecord]: ...

    async def transaction_page(
        self,
        account_external_id: str,
        *,
        since: datetime | None,
        until: datetime | None,
        offset: int,
        limit: int,
    ) -> Page[TransactionPageRecord]:
        """One page of the account's transactions whose bank instant (`booked_at`) lies in
        [since, until] (both inclusive, None = open), oldest first where the bank honours
        the direction, from `offset`. A short page proves nothing; the caller (the sync's
        window reader) decides when a window is complete."""
        ...

    def transfer_pages(self, account_external_id: str) -> AsyncIterator[Page[TransferRecord]]: ...

    async def aclose(self) -> None: ...


@dataclass(frozen=True, slots=True)
class BankConsent:
    """What a bank's consent flow hands back: credentials to sync with, and their expiry."""

    credentials: Credentials
    expires_at: datetime | None


class ConsentBroker(Protocol):
    """Asks a bank for the customer's consent as the registered application (no user login):
    the customer approves at the bank's own pages, passing the bank's SCA, and never gives
    us their bank password."""

    async def request(self, *, phone: str, time_to_live: int) -> str:
        """A consent request for the customer with this phone, valid `time_to_live` seconds
        once granted. Returns the consent request id."""
        ...

    def approval_url(self, consent_request_id: str, *, redirect_uri: str, state: str) -> str:
        """The bank page to send the customer's browser to; the bank sends it back to
        `redirect_uri` with `consent_request_id`, `status` and `state`."""
        ...

    async def collect(self, consent_request_id: str) -> BankConsent | None:
        """The granted consent; None when the customer refused it (REJECTED) or it ended.
        Raises connectors.errors.ConsentNotAnswered while the customer has not answered."""
        ...

    async def aclose(self) -> None: ...
