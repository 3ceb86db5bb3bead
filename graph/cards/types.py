"""Payment cards (masked: BIN and last four digits at most)."""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry

from graph.accounts.loaders import AccountByIdLoader
from graph.auth.scopes import ACCOUNTS_READ, CARDS_READ, TRANSACTIONS_READ
from graph.cards.loaders import CardByIdLoader
from graph.context import Info
from graph.core.inputs import within
from graph.core.pagination import Connection
from graph.core.permissions import scoped
from graph.relay.ids import to_global_id
from graph.relay.node import Node, node
from graph.transactions.filters import TransactionOrder
from graph.transactions.queries import transaction_connection
from graph.transactions.types import Transaction
from ledger.queries.pages import TransactionCriteria
from ledger.queries.results import CardRow

if TYPE_CHECKING:
    from graph.accounts.types import Account


@strawberry.enum
class CardScheme(Enum):
    VISA = "VISA"
    MASTERCARD = "MASTERCARD"
    KORTI_MILLI = "KORTI_MILLI"
    UNIONPAY = "UNIONPAY"
    OTHER = "OTHER"

    @classmethod
    def _missing_(cls, value: object) -> CardScheme:
        return cls.OTHER


@strawberry.enum
class CardStatus(Enum):
    ACTIVE = "ACTIVE"
    BLOCKED = "BLOCKED"
    EXPIRED = "EXPIRED"
    CANCELLED = "CANCELLED"


@node(scope=CARDS_READ)
@strawberry.type(description="A payment card.")
class Card(Node):
    scheme: CardScheme
    pan_masked: str = strawberry.field(description="BIN and last four digits at most.")
    holder_name: str | None
    expires_on: str | None = strawberry.field(description="MM/YY.")
    status: CardStatus
    pk: strawberry.Private[int]
    account_pk: strawberry.Private[int]

    @classmethod
    async def resolve_node(cls, info: Info, pk: int) -> Card | None:
        return cls.maybe(await info.context.loaders.get(CardByIdLoader).load(pk))

    @classmethod
    def from_row(cls, row: CardRow) -> Card:
        return cls(
            id=strawberry.ID(to_global_id("Card", row.id)),
            scheme=CardScheme(row.scheme),
            pan_masked=row.pan_masked,
            holder_name=row.holder_name,
            expires_on=row.expires_on,
            status=CardStatus(row.status),
            pk=row.id,
            account_pk=row.account_id,
        )

    @classmethod
    def maybe(cls, row: CardRow | None) -> Card | None:
        return None if row is None else cls.from_row(row)

    @scoped("The account the card draws on.", ACCOUNTS_READ)
    async def account(
        self, info: Info
    ) -> Annotated[Account, strawberry.lazy("graph.accounts.types")] | None:
        from graph.accounts.types import Account

        return Account.maybe(
            await info.context.loaders.get(AccountByIdLoader).load(self.account_pk)
        )

    @scoped("Transactions paid with this card, newest first.", TRANSACTIONS_READ)
    async def transactions(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Transaction] | None:
        readable = within(await info.context.account_ids(), [self.account_pk])
        criteria = TransactionCriteria(account_ids=readable, card_ids=[self.pk])
        order = TransactionOrder.BOOKING_DATE_DESC
        return await transaction_connection(
            info, criteria, order, first=first, after=after, last=last, before=before
        )
