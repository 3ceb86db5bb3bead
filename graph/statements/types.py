"""Period statements of an account."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from graph.accounts.loaders import AccountByIdLoader
from graph.auth.scopes import ACCOUNTS_READ
from graph.context import Info
from graph.core.pagination import Connection
from graph.core.permissions import scoped
from graph.core.scalars import Money
from graph.transactions.filters import TransactionOrder
from graph.transactions.queries import transaction_connection
from graph.transactions.types import Transaction
from ledger.queries.pages import TransactionCriteria
from ledger.queries.statements import StatementFigures

if TYPE_CHECKING:
    from graph.accounts.types import Account


@strawberry.type(
    description="An account's statement of a period (booking dates, inclusive). Opening "
    "balance: from the running balance of the first booked transaction on or after `from`, "
    "else of the last one before it, else the sum of everything booked before `from`. Closing "
    "balance: the running balance after the last booked transaction up to `to`, else opening "
    "plus the period's net."
)
class Statement:
    from_: date = strawberry.field(name="from")
    to: date
    currency: str
    opening_balance: Money
    closing_balance: Money
    total_debits: Money = strawberry.field(description="Positive: the sum of all debits.")
    total_credits: Money
    transaction_count: int
    booked_only: bool = strawberry.field(
        description="False: the period's pending transactions are included too."
    )
    as_of: datetime | None = strawberry.field(
        description="The instant the statement reproduces; null: as the ledger stands now."
    )
    balanced: bool = strawberry.field(
        description="opening + credits - debits == closing, and the booked closing balance "
        "equals the bank-reported balance where there is one."
    )
    reconciled: bool | None = strawberry.field(
        description="Whether the bank confirmed the account's booked rows up to the end of "
        "`to`: by the latest sync check against the bank taken after the period's end (and "
        "not after `asOf`), true when it was clean or its first difference lies after `to`. "
        "Null when no such check exists: never checked, or not since the period ended."
    )
    bank_reported_balance: Money | None = strawberry.field(
        description="The bank's booked balance, when a snapshot was taken between the period's "
        "last booked transaction and the end of `to` (Dushanbe time)."
    )
    account_pk: strawberry.Private[int]

    @classmethod
    def of(
        cls,
        figures: StatementFigures,
        *,
        account_pk: int,
        currency: str,
        date_from: date,
        date_to: date,
        booked_only: bool,
        as_of: datetime | None,
        reconciled: bool | None,
    ) -> Statement:
        return cls(
            from_=date_from,
            to=date_to,
            currency=currency,
            opening_balance=Money.of(figures.opening),
            closing_balance=Money.of(figures.closing),
            total_debits=Money.of(figures.debits),
            total_credits=Money.of(figures.credits),
            transaction_count=figures.count,
            booked_only=booked_only,
            as_of=as_of,
            balanced=figures.reconciled,
            reconciled=reconciled,
            bank_reported_balance=Money.maybe(figures.bank_reported),
            account_pk=account_pk,
        )

    @scoped("The account.", ACCOUNTS_READ)
    async def account(
        self, info: Info
    ) -> Annotated[Account, strawberry.lazy("graph.accounts.types")] | None:
        from graph.accounts.types import Account

        return Account.maybe(
            await info.context.loaders.get(AccountByIdLoader).load(self.account_pk)
        )

    @strawberry.field(description="The period's transactions, oldest first.")
    async def transactions(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Transaction]:
        criteria = TransactionCriteria(
            account_ids=[self.account_pk],
            date_from=self.from_,
            date_to=self.to,
            status="BOOKED" if self.booked_only else None,
            hide_copies=True,
        )
        order = TransactionOrder.BOOKING_DATE_ASC
        return await transaction_connection(
            info, criteria, order, first=first, after=after, last=last, before=before
        )
