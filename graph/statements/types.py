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
from graph.insights.types import ExchangeRate
from graph.rates.types import CURRENCY_ARGUMENT, check_currency
from graph.transactions.filters import TransactionOrder
from graph.transactions.queries import transaction_connection
from graph.transactions.types import Transaction
from ledger.queries import equivalents
from ledger.queries.pages import TransactionCriteria
from ledger.queries.statements import StatementFigures

if TYPE_CHECKING:
    from graph.accounts.types import Account


@strawberry.type(description="A statement's figures in another currency.")
class StatementEquivalent:
    currency: str
    opening_balance: Money
    closing_balance: Money
    total_debits: Money
    total_credits: Money
    revaluation: Money = strawberry.field(
        description="closing - (opening + credits - debits): the exchange difference."
    )
    rates: list[ExchangeRate] = strawberry.field(description="The rates used, oldest first.")

    @classmethod
    def of(cls, found: equivalents.StatementEquivalent, currency: str) -> StatementEquivalent:
        return cls(
            currency=currency,
            opening_balance=Money.of(found.opening),
            closing_balance=Money.of(found.closing),
            total_debits=Money.of(found.debits),
            total_credits=Money.of(found.credits),
            revaluation=Money.of(found.revaluation),
            rates=[ExchangeRate.of(r) for r in found.rates],
        )


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
    figures: strawberry.Private[StatementFigures]

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
            figures=figures,
        )

    @scoped("The account.", ACCOUNTS_READ)
    async def account(
        self, info: Info
    ) -> Annotated[Account, strawberry.lazy("graph.accounts.types")] | None:
        from graph.accounts.types import Account

        return Account.maybe(
            await info.context.loaders.get(AccountByIdLoader).load(self.account_pk)
        )

    @strawberry.field(
        description="The statement in `currency` (default TJS) at NBT's official rates: "
        "opening balance at the rate of the day before `from`, closing at the rate of `to`, "
        "debits and credits at each day's rate; `revaluation` is the exchange difference. "
        "For a TJS account in TJS, the statement itself. Null when a rate is missing."
    )
    async def equivalent_in(
        self, info: Info, currency: Annotated[str, CURRENCY_ARGUMENT] = "TJS"
    ) -> StatementEquivalent | None:
        check_currency(currency)
        async with info.context.db.session() as session:
            found = await equivalents.statement_equivalent(
                session,
                self.account_pk,
                self.figures,
                self.from_,
                self.to,
                currency,
                booked_only=self.booked_only,
                as_of=self.as_of,
            )
        return None if found is None else StatementEquivalent.of(found, currency)

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
