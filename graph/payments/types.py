"""Payments to service providers: mobile top-ups, electricity, water, ..."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from graph.accounts.loaders import AccountByIdLoader
from graph.auth.scopes import ACCOUNTS_READ, PAYMENTS_READ, TRANSACTIONS_READ
from graph.categories.types import Category, CategorySource
from graph.context import Info
from graph.core.locales import Locale
from graph.core.permissions import scoped
from graph.core.scalars import Money
from graph.payments.loaders import ServicePaymentByIdLoader
from graph.relay.ids import to_global_id
from graph.relay.node import Node, node
from graph.transactions.loaders import TransactionByServicePaymentLoader
from graph.transactions.types import Transaction
from ledger.queries.results import ServicePaymentRow

if TYPE_CHECKING:
    from graph.accounts.types import Account


@node(scope=PAYMENTS_READ)
@strawberry.type(description="A payment to a service provider.")
class ServicePayment(Node):
    provider: str
    category: Category
    service_account_masked: str | None = strawberry.field(
        description="The customer's number at the provider (phone, meter, contract), masked."
    )
    amount: Money
    paid_at: datetime
    autopay: bool
    pk: strawberry.Private[int]
    account_pk: strawberry.Private[int]

    @classmethod
    async def resolve_node(cls, info: Info, pk: int) -> ServicePayment | None:
        row = await info.context.loaders.get(ServicePaymentByIdLoader).load(pk)
        return cls.maybe(row, info.context.locale)

    @classmethod
    def from_row(cls, row: ServicePaymentRow, locale: Locale) -> ServicePayment:
        return cls(
            id=strawberry.ID(to_global_id("ServicePayment", row.id)),
            provider=row.provider,
            category=Category.of(row.category, CategorySource.BANK, locale, 95),
            service_account_masked=row.service_account_masked,
            amount=Money.of(row.amount),
            paid_at=row.paid_at,
            autopay=row.autopay,
            pk=row.id,
            account_pk=row.account_id,
        )

    @classmethod
    def maybe(cls, row: ServicePaymentRow | None, locale: Locale) -> ServicePayment | None:
        return None if row is None else cls.from_row(row, locale)

    @scoped("The transaction that paid it.", TRANSACTIONS_READ)
    async def transaction(self, info: Info) -> Transaction | None:
        row = await info.context.loaders.get(TransactionByServicePaymentLoader).load(self.pk)
        return Transaction.maybe(row, info)

    @scoped("The account it was paid from.", ACCOUNTS_READ)
    async def account(
        self, info: Info
    ) -> Annotated[Account, strawberry.lazy("graph.accounts.types")] | None:
        from graph.accounts.types import Account

        return Account.maybe(
            await info.context.loaders.get(AccountByIdLoader).load(self.account_pk)
        )
