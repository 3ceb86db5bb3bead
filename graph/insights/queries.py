"""The root `spendingInsights` field."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry

from graph.auth.scopes import TRANSACTIONS_READ
from graph.context import Info
from graph.core.errors import BadUserInput
from graph.core.inputs import check_list, check_period, within
from graph.core.locales import Locale
from graph.core.permissions import scoped
from graph.insights.types import InsightGrouping, SpendingInsights
from graph.relay.ids import pks_of
from graph.relay.queries import refuse_unreadable
from ledger.money import CURRENCY_EXPONENTS
from ledger.queries import spending


@strawberry.type
class InsightQueries:
    @scoped("Where the money went in a period.", TRANSACTIONS_READ)
    async def spending_insights(
        self,
        info: Info,
        from_: Annotated[date, strawberry.argument(name="from")],
        to: date,
        account_ids: list[strawberry.ID] | None = None,
        group_by: InsightGrouping = InsightGrouping.CATEGORY,
        currency: str = "TJS",
        locale: Locale | None = None,
    ) -> SpendingInsights | None:
        check_period(from_, to)
        if currency not in CURRENCY_EXPONENTS:
            raise BadUserInput(f"Unknown currency {currency[:8]!r}.")
        requested = pks_of(check_list("accountIds", account_ids), "Account")
        context = info.context
        readable = within(await context.account_ids(), requested)
        await refuse_unreadable(info, {"Account": account_ids})
        async with context.db.session() as session:
            summary = await spending.spending_summary(
                session,
                context.principal.user_id,
                readable,
                from_,
                to,
                group_by=group_by.value,
                currency=currency,
            )
        return SpendingInsights.of(
            summary,
            grouping=group_by,
            locale=locale or context.locale,
            date_from=from_,
            date_to=to,
        )
