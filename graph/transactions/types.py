"""Transactions and the small value types that describe them."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry

from graph.accounts.loaders import AccountByIdLoader
from graph.auth.scopes import (
    ACCOUNTS_READ,
    CARDS_READ,
    PAYMENTS_READ,
    TRANSACTIONS_READ,
    TRANSFERS_READ,
)
from graph.cards.loaders import CardByIdLoader
from graph.categories.types import Category
from graph.context import Info
from graph.core.locales import Locale
from graph.core.permissions import scoped
from graph.core.scalars import Money
from graph.payments.loaders import ServicePaymentByIdLoader
from graph.rates.types import CURRENCY_ARGUMENT, ConvertedMoney, converted
from graph.relay.ids import to_global_id
from graph.relay.node import Node, node
from graph.transactions.loaders import RevisionsByTransactionLoader, TransactionByIdLoader
from graph.transfers.loaders import TransferByIdLoader
from ledger import money
from ledger.enrich import own_transfers
from ledger.queries.results import RevisionRow, TransactionRow

if TYPE_CHECKING:
    from graph.accounts.types import Account
    from graph.cards.types import Card
    from graph.payments.types import ServicePayment
    from graph.transfers.types import Transfer


@strawberry.enum
class BookingStatus(Enum):
    BOOKED = "BOOKED"
    PENDING = "PENDING"


@strawberry.enum
class CreditDebit(Enum):
    CREDIT = "CREDIT"
    DEBIT = "DEBIT"


@strawberry.enum
class TransactionType(Enum):
    CARD_PAYMENT = "CARD_PAYMENT"
    TRANSFER_IN = "TRANSFER_IN"
    TRANSFER_OUT = "TRANSFER_OUT"
    INTERNATIONAL_TRANSFER = "INTERNATIONAL_TRANSFER"
    SERVICE_PAYMENT = "SERVICE_PAYMENT"
    CASH_WITHDRAWAL = "CASH_WITHDRAWAL"
    TOP_UP = "TOP_UP"
    CURRENCY_EXCHANGE = "CURRENCY_EXCHANGE"
    INSTALLMENT = "INSTALLMENT"
    CASHBACK = "CASHBACK"
    FEE = "FEE"
    SALARY = "SALARY"
    OTHER = "OTHER"

    @classmethod
    def _missing_(cls, value: object) -> TransactionType:
        # A type a newer connector knows is still a valid transaction.
        return cls.OTHER


# Members by value, looked up per row without Enum's call (an unknown value still goes
# through the call: its error, or TransactionType's OTHER).
_STATUSES = {member.value: member for member in BookingStatus}
_TYPES = {member.value: member for member in TransactionType}


@strawberry.type
class Counterparty:
    name: str | None
    account_masked: str | None
    bank: str | None
    country: str | None = strawberry.field(description="ISO 3166 alpha-2 code.")

    @classmethod
    def from_row(cls, row: TransactionRow) -> Counterparty | None:
        name, account = row.counterparty_name, row.counterparty_account
        bank, country = row.counterparty_bank, row.counterparty_country
        if name is None and account is None and bank is None and country is None:
            return None
        return cls(name=name, account_masked=account, bank=bank, country=country)


@strawberry.type
class Merchant:
    name: str | None
    mcc: str | None = strawberry.field(description="ISO 18245 merchant category code.")


@strawberry.enum
class RevisionKind(Enum):
    CHANGED = "CHANGED"
    REMOVED = "REMOVED"
    RESTORED = "RESTORED"


@strawberry.type(
    description="One step of a booked transaction's history, recorded when a sync found "
    "the bank changed a booked fact (CHANGED), stopped listing the row (REMOVED) or listed "
    "it again (RESTORED). The values are the transaction's BEFORE this step."
)
class TransactionRevision:
    kind: RevisionKind
    recorded_at: datetime
    status: BookingStatus
    booking_date: date
    booked_at: datetime | None
    amount: Money = strawberry.field(description="Signed: debits are negative.")
    counterparty_name: str | None
    description: str | None

    @classmethod
    def from_row(cls, row: RevisionRow) -> TransactionRevision:
        return cls(
            kind=RevisionKind(row.kind),
            recorded_at=row.recorded_at,
            status=BookingStatus(row.status),
            booking_date=row.booking_date,
            booked_at=row.booked_at,
            amount=Money.of(row.amount),
            counterparty_name=row.counterparty_name,
            description=row.description,
        )


@strawberry.enum(description="Why two rows are one payment stored twice.")
class DuplicateRule(Enum):
    SAME_REFERENCE = "SAME_REFERENCE"
    SAME_ACCOUNT_TWICE = "SAME_ACCOUNT_TWICE"
    CARD_AND_ACCOUNT_FEED = "CARD_AND_ACCOUNT_FEED"


@strawberry.enum(description="Why two rows are the legs of one move between own accounts.")
class InternalTransferRule(Enum):
    SHARED_REFERENCE = "SHARED_REFERENCE"
    COUNTERPARTY_ACCOUNT = "COUNTERPARTY_ACCOUNT"
    EXCHANGE_LEGS = "EXCHANGE_LEGS"


@strawberry.enum
class InternalTransferDirection(Enum):
    TRANSFER_IN = "TRANSFER_IN"
    TRANSFER_OUT = "TRANSFER_OUT"


@strawberry.type(
    description="This row is a later copy of `original`, the same real payment stored "
    "twice; left out of statements and insights. `transactionMarkNotDuplicate` undoes it."
)
class DuplicateLink:
    score: Decimal = strawberry.field(description="0 to 1, two decimals.")
    rule: DuplicateRule
    original_pk: strawberry.Private[int]

    @strawberry.field(description="The row this one copies; null outside the consent.")
    async def original(self, info: Info) -> Transaction | None:
        row = await info.context.loaders.get(TransactionByIdLoader).load(self.original_pk)
        return Transaction.maybe(row, info)


@strawberry.type(
    description="This row is one leg of a move between the customer's own accounts; both "
    "legs leave spending insights."
)
class InternalTransfer:
    direction: InternalTransferDirection = strawberry.field(
        description="TRANSFER_OUT on the debit leg, TRANSFER_IN on the credit leg."
    )
    rule: InternalTransferRule
    leg_pk: strawberry.Private[int]

    @strawberry.field(description="The other leg; null outside the consent.")
    async def counterpart(self, info: Info) -> Transaction | None:
        row = await info.context.loaders.get(TransactionByIdLoader).load(self.leg_pk)
        return Transaction.maybe(row, info)


@node(scope=TRANSACTIONS_READ)
@strawberry.type(description="A booked or pending movement of money on an account.")
class Transaction(Node):
    status: BookingStatus
    booking_date: date
    value_date: date | None
    amount: Money = strawberry.field(description="Signed: debits are negative.")
    credit_debit: CreditDebit
    type: TransactionType
    description: str | None
    counterparty: Counterparty | None
    merchant: Merchant | None
    category: Category | None
    balance_after: Money | None = strawberry.field(
        description="The account's booked balance right after this transaction, as the bank "
        "reported it."
    )
    original_amount: Money | None = strawberry.field(
        description="The amount before conversion into the account's currency."
    )
    exchange_rate: Decimal | None = strawberry.field(
        description="Account currency per unit of the original currency."
    )
    updated_at: datetime
    removed_at: datetime | None = strawberry.field(
        description="When a sync found the bank no longer lists this booked transaction: it "
        "no longer counts in lists and sums, and stays readable by id with its revisions."
    )
    duplicate_of: DuplicateLink | None = strawberry.field(
        description="Set when this row is a later copy of another (the same payment seen twice)."
    )
    internal_transfer: InternalTransfer | None = strawberry.field(
        description="Set when this row is a leg of a move between the customer's own accounts."
    )
    pk: strawberry.Private[int]
    ledger_amount: strawberry.Private[money.Money]
    account_pk: strawberry.Private[int]
    card_pk: strawberry.Private[int | None]
    transfer_pk: strawberry.Private[int | None]
    service_payment_pk: strawberry.Private[int | None]
    replaces_pk: strawberry.Private[int | None]

    @classmethod
    async def resolve_node(cls, info: Info, pk: int) -> Transaction | None:
        return cls.maybe(await info.context.loaders.get(TransactionByIdLoader).load(pk), info)

    @classmethod
    def from_row(cls, row: TransactionRow, locale: Locale) -> Transaction:
        merchant, mcc, amount = row.merchant_name, row.mcc, row.amount
        return cls(
            id=strawberry.ID(to_global_id("Transaction", row.id)),
            status=_STATUSES.get(row.status) or BookingStatus(row.status),
            booking_date=row.booking_date,
            value_date=row.value_date,
            amount=Money.of(amount),
            credit_debit=CreditDebit.DEBIT if amount.is_negative else CreditDebit.CREDIT,
            type=_TYPES.get(row.type) or TransactionType(row.type),
            description=row.description,
            counterparty=Counterparty.from_row(row),
            merchant=Merchant(name=merchant, mcc=mcc) if merchant or mcc else None,
            category=Category.from_row(row, locale),
            balance_after=Money.maybe(row.balance_after),
            original_amount=Money.maybe(row.original_amount),
            exchange_rate=Decimal(row.fx_rate) if row.fx_rate else None,
            updated_at=row.updated_at,
            removed_at=row.removed_at,
            duplicate_of=None
            if row.duplicate_of_id is None
            else DuplicateLink(
                score=Decimal(row.duplicate_score or "0"),
                rule=DuplicateRule(row.duplicate_rule),
                original_pk=row.duplicate_of_id,
            ),
            internal_transfer=None
            if row.internal_transfer_leg_id is None
            else InternalTransfer(
                direction=InternalTransferDirection(
                    own_transfers.direction_of(row.amount.minor, row.internal_transfer_leg_id)
                ),
                rule=InternalTransferRule(row.internal_transfer_rule),
                leg_pk=row.internal_transfer_leg_id,
            ),
            pk=row.id,
            ledger_amount=amount,
            account_pk=row.account_id,
            card_pk=row.card_id,
            transfer_pk=row.transfer_id,
            service_payment_pk=row.service_payment_id,
            replaces_pk=row.replaces_id,
        )

    @scoped("The account it was booked on.", ACCOUNTS_READ)
    async def account(
        self, info: Info
    ) -> Annotated[Account, strawberry.lazy("graph.accounts.types")] | None:
        from graph.accounts.types import Account

        return Account.maybe(
            await info.context.loaders.get(AccountByIdLoader).load(self.account_pk)
        )

    @scoped("The card it was paid with.", CARDS_READ)
    async def card(
        self, info: Info
    ) -> Annotated[Card, strawberry.lazy("graph.cards.types")] | None:
        from graph.cards.types import Card

        if self.card_pk is None:
            return None
        return Card.maybe(await info.context.loaders.get(CardByIdLoader).load(self.card_pk))

    @scoped("The transfer it belongs to.", TRANSFERS_READ)
    async def transfer(
        self, info: Info
    ) -> Annotated[Transfer, strawberry.lazy("graph.transfers.types")] | None:
        from graph.transfers.types import Transfer

        if self.transfer_pk is None:
            return None
        return Transfer.maybe(
            await info.context.loaders.get(TransferByIdLoader).load(self.transfer_pk)
        )

    @scoped("The service payment it paid.", PAYMENTS_READ)
    async def service_payment(
        self, info: Info
    ) -> Annotated[ServicePayment, strawberry.lazy("graph.payments.types")] | None:
        from graph.payments.types import ServicePayment

        if self.service_payment_pk is None:
            return None
        row = await info.context.loaders.get(ServicePaymentByIdLoader).load(self.service_payment_pk)
        return ServicePayment.maybe(row, info.context.locale)

    @strawberry.field(
        description="Changes the bank made to this booked transaction after it was first "
        "stored, oldest first; empty for a row never changed. Part of the transaction like its "
        "amount, so it needs no scope beyond the one that reached the transaction."
    )
    async def revisions(self, info: Info) -> list[TransactionRevision]:
        found = await info.context.loaders.get(RevisionsByTransactionLoader).load(self.pk)
        return [TransactionRevision.from_row(row) for row in found]

    @strawberry.field(
        description="The amount in `currency` at NBT's official rate of the booking date "
        "(the latest publication on or before it), rounded half-even to the currency's "
        "minor unit; the rate and its date come with it. Null when no rate is stored."
    )
    async def amount_in(
        self,
        info: Info,
        currency: Annotated[str, CURRENCY_ARGUMENT] = "TJS",
    ) -> ConvertedMoney | None:
        return await converted(info, self.ledger_amount, currency, self.booking_date)

    @strawberry.field(description="The pending transaction this booked one replaced.")
    async def replaces_pending(self, info: Info) -> Transaction | None:
        if self.replaces_pk is None:
            return None
        row = await info.context.loaders.get(TransactionByIdLoader).load(self.replaces_pk)
        return Transaction.maybe(row, info)

    @classmethod
    def maybe(cls, row: TransactionRow | None, info: Info) -> Transaction | None:
        return None if row is None else cls.from_row(row, info.context.locale)
