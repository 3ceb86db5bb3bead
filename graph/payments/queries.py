"""The root `servicePayments` field."""

from __future__ import annotations

import strawberry

from graph.auth.scopes import PAYMENTS_READ
from graph.context import Info
from graph.core.pagination import Connection, Ordering, connection
from graph.core.permissions import scoped
from graph.payments.filters import ServicePaymentFilter, payment_criteria
from graph.payments.types import ServicePayment
from graph.relay.queries import refuse_unreadable
from ledger.queries import pages
from ledger.queries.pages import SERVICE_PAYMENT_KEYS

ORDERING = Ordering("pay", SERVICE_PAYMENT_KEYS, descending=True)


@strawberry.type
class PaymentQueries:
    @scoped("Service payments of the consented accounts, newest first.", PAYMENTS_READ)
    async def service_payments(
        self,
        info: Info,
        filter: ServicePaymentFilter | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[ServicePayment] | None:
        context = info.context
        criteria = payment_criteria(filter, await context.account_ids())
        await refuse_unreadable(info, filter.named_ids() if filter else {})
        locale = context.locale
        return await connection(
            info,
            ORDERING,
            first=first,
            after=after,
            last=last,
            before=before,
            page=lambda session, window: pages.service_payment_page(session, criteria, window),
            count=lambda session: pages.service_payment_count(session, criteria),
            to_node=lambda row: ServicePayment.from_row(row, locale),
        )
