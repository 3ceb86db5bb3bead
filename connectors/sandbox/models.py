"""The sandbox bank's records. Money is integer minor units; JSON strings come later."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

BOOKED = "BOOKED"
PENDING = "PENDING"


@dataclass(frozen=True, slots=True)
class Customer:
    username: str
    password: str
    user_id: str
    first_name: str
    last_name: str
    phone: str  # E.164, +992 and a real operator prefix
    email: str
    archetype: str  # family | business | student
    business_name: str | None = None

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@dataclass(frozen=True, slots=True)
class Account:
    id: str
    bank_id: str
    owner: str  # username
    currency: str
    number: str  # 20 digits, the currency's numeric code at positions 6-8
    product_code: str  # WALLET CURRENT SAVINGS CARD
    label: str
    holder_name: str  # the person, or the business for business accounts


@dataclass(frozen=True, slots=True)
class Card:
    card_id: str
    account_id: str
    owner: str
    number: str  # the full PAN, as OBP sends it (the connector masks it)
    network: str  # VISA MASTERCARD KORTI_MILLI
    name_on_card: str
    issue_number: str
    serial_number: str
    valid_from: datetime
    expires: datetime
    enabled: bool
    cancelled: bool
    on_hot_list: bool
    technology: str
    posted: datetime
    collected: datetime | None
    replacement_reason: str | None = None  # FIRST RENEW LOST STOLEN
    replacement_date: datetime | None = None


@dataclass(frozen=True, slots=True)
class Party:
    """The other side of a transaction or transfer."""

    name: str
    account: str | None = None  # account number, IBAN or masked card
    bank: str | None = None  # BIC or the name of a money-transfer system
    country: str | None = None  # ISO 3166 alpha-2
    # AccountNumber or IBAN become OBP account routings; Card (a masked PAN) does not.
    account_scheme: str = "AccountNumber"


@dataclass(frozen=True, slots=True)
class Transaction:
    id: str
    account_id: str
    posted: datetime
    completed: datetime | None  # None while pending
    amount_minor: int  # signed: debits negative
    currency: str
    new_balance_minor: int | None  # None while pending
    status: str  # BOOKED | PENDING
    type: str  # the TYPE attribute
    description: str
    counterparty: Party | None
    # Alif's attributes in a fixed order; STATUS, TYPE and CATEGORY always come first.
    attributes: tuple[tuple[str, str], ...]

    def attribute(self, name: str) -> str | None:
        for key, value in self.attributes:
            if key == name:
                return value
        return None


@dataclass(frozen=True, slots=True)
class TransferEvent:
    status: str  # CREATED PENDING ON_HOLD SENT AVAILABLE_FOR_PAYOUT COMPLETED FAILED ...
    at: datetime
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Transfer:
    """A transaction request, with Alif's extras. Amounts are positive."""

    id: str
    account_id: str
    type: str  # OBP transaction-request type: ACCOUNT COUNTERPARTY CARD_TO_CARD ...
    rail: str  # VISA_DIRECT SWIFT MONEY_TRANSFER_SYSTEM CARD_TO_CARD DOMESTIC OTHER
    direction: str  # OUTBOUND | INBOUND
    status: str  # OBP TransactionRequestStatus
    start_date: datetime
    end_date: datetime | None
    currency: str
    amount_minor: int  # what this account is debited or credited, without the fee
    fee_minor: int
    fee_summary: str
    # The other leg when it is in another currency: what the recipient gets (outbound)
    # or what the sender paid (inbound). amount = foreign x fx_rate, rounded half-even.
    foreign_currency: str | None
    foreign_minor: int | None
    fx_rate: Decimal | None
    corridor: str | None  # "RU->TJ"
    counterparty: Party
    description: str
    history: tuple[TransferEvent, ...]
    transaction_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Counterparty:
    """A saved beneficiary of an account (OBP's explicit counterparty)."""

    id: str
    account_id: str
    party: Party
    currency: str
    description: str
