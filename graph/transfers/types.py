"""Transfers between accounts and across borders, with their status histories."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry

from graph.accounts.loaders import AccountByIdLoader
from graph.auth.scopes import ACCOUNTS_READ, TRANSFERS_READ
from graph.context import Info
from graph.core.permissions import scoped
from graph.core.scalars import Money
from graph.rates.types import CURRENCY_ARGUMENT, ConvertedMoney, converted
from graph.relay.ids import to_global_id
from graph.relay.node import Node, node
from graph.transactions.types import Counterparty
from graph.transfers.loaders import TransferByIdLoader, TransferEventsByTransferLoader
from ledger import money
from ledger.queries import BANK_TIMEZONE
from ledger.queries.results import TransferRow

if TYPE_CHECKING:
    from graph.accounts.types import Account


@strawberry.enum
class Direction(Enum):
    INBOUND = "INBOUND"
    OUTBOUND = "OUTBOUND"


@strawberry.enum
class TransferRail(Enum):
    VISA_DIRECT = "VISA_DIRECT"
    SWIFT = "SWIFT"
    MONEY_TRANSFER_SYSTEM = "MONEY_TRANSFER_SYSTEM"
    CARD_TO_CARD = "CARD_TO_CARD"
    DOMESTIC = "DOMESTIC"
    OTHER = "OTHER"

    @classmethod
    def _missing_(cls, value: object) -> TransferRail:
        return cls.OTHER


@strawberry.enum
class TransferStatus(Enum):
    CREATED = "CREATED"
    PENDING = "PENDING"
    ON_HOLD = "ON_HOLD"
    SENT = "SENT"
    AVAILABLE_FOR_PAYOUT = "AVAILABLE_FOR_PAYOUT"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    RETURNED = "RETURNED"


@strawberry.type(description="One step of a transfer's status history.")
class TransferEvent:
    status: TransferStatus
    at: datetime
    note: str | None


@node(scope=TRANSFERS_READ)
@strawberry.type(description="A transfer of money, domestic or cross-border.")
class Transfer(Node):
    direction: Direction
    amount: Money
    fee: Money | None
    destination_amount: Money | None = strawberry.field(
        description="What the recipient gets, in the recipient's currency."
    )
    source_amount: Money | None = strawberry.field(
        description="What the sender paid, in the sender's currency (an inbound remittance)."
    )
    exchange_rate: Decimal | None = strawberry.field(
        description=(
            "Units of this account's currency per one unit of the other leg's currency "
            "(amount = other leg x rate, rounded half-even)."
        )
    )
    rail: TransferRail
    corridor: str | None = strawberry.field(description='Country pair, e.g. "RU->TJ".')
    counterparty: Counterparty | None
    reference: str | None
    status: TransferStatus
    created_at: datetime
    completed_at: datetime | None
    pk: strawberry.Private[int]
    account_pk: strawberry.Private[int]
    ledger_amount: strawberry.Private[money.Money]

    @classmethod
    async def resolve_node(cls, info: Info, pk: int) -> Transfer | None:
        return cls.maybe(await info.context.loaders.get(TransferByIdLoader).load(pk))

    @classmethod
    def from_row(cls, row: TransferRow) -> Transfer:
        name, account = row.counterparty_name, row.counterparty_account
        country = row.counterparty_country
        has_counterparty = name is not None or account is not None or country is not None
        return cls(
            id=strawberry.ID(to_global_id("Transfer", row.id)),
            direction=Direction(row.direction),
            amount=Money.of(row.amount),
            fee=Money.maybe(row.fee),
            destination_amount=Money.maybe(row.destination_amount),
            source_amount=Money.maybe(row.source_amount),
            exchange_rate=Decimal(row.fx_rate) if row.fx_rate else None,
            rail=TransferRail(row.rail),
            corridor=row.corridor,
            counterparty=Counterparty(name=name, account_masked=account, bank=None, country=country)
            if has_counterparty
            else None,
            reference=row.reference,
            status=TransferStatus(row.status),
            created_at=row.initiated_at,
            completed_at=row.completed_at,
            pk=row.id,
            account_pk=row.account_id,
            ledger_amount=row.amount,
        )

    @classmethod
    def maybe(cls, row: TransferRow | None) -> Transfer | None:
        return None if row is None else cls.from_row(row)

    @strawberry.field(
        description="`amount` in `currency` at NBT's official rate of the day the transfer "
        "was created (Dushanbe time), rounded half-even; null when no rate is stored."
    )
    async def amount_in(
        self, info: Info, currency: Annotated[str, CURRENCY_ARGUMENT] = "TJS"
    ) -> ConvertedMoney | None:
        day = self.created_at.astimezone(BANK_TIMEZONE).date()
        return await converted(info, self.ledger_amount, currency, day)

    @strawberry.field(description="Every status the transfer went through, oldest first.")
    async def history(self, info: Info) -> list[TransferEvent]:
        found = await info.context.loaders.get(TransferEventsByTransferLoader).load(self.pk)
        return [TransferEvent(status=TransferStatus(r.status), at=r.at, note=r.note) for r in found]

    @scoped("The customer's account it moved money on.", ACCOUNTS_READ)
    async def account(
        self, info: Info
    ) -> Annotated[Account, strawberry.lazy("graph.accounts.types")] | None:
        from graph.accounts.types import Account

        return Account.maybe(
            await info.context.loaders.get(AccountByIdLoader).load(self.account_pk)
        )
