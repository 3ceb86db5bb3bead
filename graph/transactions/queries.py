"""Transaction lists: the root `transactions` field and the connection every list uses."""

from __future__ import annotations

import strawberry

from graph.auth.scopes import TRANSACTIONS_READ
from graph.context import Info
from graph.core.pagination import Connection, Ordering, connection
from graph.core.permissions import scoped
from graph.relay.queries import refuse_unreadable
from graph.transactions.filters import TransactionFilter, TransactionOrder, transaction_criteria
from graph.transactions.types import Transaction
from ledger.queries import pages
from ledger.queries.pages import TRANSACTION_KEYS, TransactionCriteria

ORDERINGS = {
    TransactionOrder.BOOKING_DATE_DESC: Ordering("tx", TRANSACTION_KEYS, descending=True),
    TransactionOrder.BOOKING_DATE_ASC: Ordering("tx", TRANSACTION_KEYS, descending=False),
}


async def transaction_connection(
    info: Info,
    criteria: TransactionCriteria,
    order: TransactionOrder,
    *,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
) -> Connection[Transaction]:
    """One page of transactions: one statement, whatever the page size."""
    locale = info.context.locale
    return await connection(
        info,
        ORDERINGS[order],
        first=first,
        after=after,
        last=last,
        before=before,
        page=lambda session, window: pages.transaction_page(session, criteria, window),
        count=lambda session: pages.transaction_count(session, criteria),
        to_node=lambda row: Transaction.from_row(row, locale),
    )


@strawberry.type
class TransactionQueries:
    @scoped(
        "Transactions of the consented accounts; pending rows that a booked one "
        "replaced are left out.",
        TRANSACTIONS_READ,
    )
    async def transactions(
        self,
        info: Info,
        filter: TransactionFilter | None = None,
        order_by: TransactionOrder = TransactionOrder.BOOKING_DATE_DESC,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Transaction] | None:
        criteria = transaction_criteria(filter, await info.context.account_ids())
        await refuse_unreadable(info, filter.named_ids() if filter else {})
        return await transaction_connection(
            info, criteria, order_by, first=first, after=after, last=last, before=before
        )
