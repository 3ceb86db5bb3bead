"""The root `categories`, `categoryRules` and `recurringPayments` fields."""

from __future__ import annotations

from datetime import date

import strawberry

from graph.auth.scopes import TRANSACTIONS_READ
from graph.categories.types import (
    CategoryDefinition,
    CategoryRule,
    RecurringFrequency,
    RecurringPayment,
    RecurringStatus,
    StreamDirection,
)
from graph.context import Info
from graph.core.inputs import check_list, within
from graph.core.locales import Locale
from graph.core.pagination import Connection, Ordering, connection
from graph.core.permissions import scoped
from graph.relay.ids import pks_of
from graph.relay.queries import refuse_unreadable
from ledger.enrich import recurring, rules, taxonomy
from ledger.queries import BANK_TIMEZONE
from ledger.types import utcnow

RULE_ORDER = Ordering("rule", ("id",), descending=False)


def _visible(rule: rules.Rule, readable: list[int]) -> bool:
    """A rule bound to an account the consent does not cover is not shown."""
    return rule.account_id is None or rule.account_id in readable


async def readable_rule(info: Info, pk: int) -> rules.Rule | None:
    """One of the customer's rules, if the request may see it; else None, like a missing
    one."""
    context = info.context
    readable = await context.account_ids()
    async with context.db.session() as session:
        rule = await rules.rule_of(session, context.principal.user_id, pk)
    return rule if rule is not None and _visible(rule, readable) else None


@strawberry.input(description="Which recurring streams to list.")
class RecurringFilter:
    account_ids: list[strawberry.ID] | None = None
    direction: StreamDirection | None = None
    status: list[RecurringStatus] | None = None
    frequency: list[RecurringFrequency] | None = None
    as_of: date | None = strawberry.field(
        default=None, description="The day statuses are judged on; today by default."
    )


@strawberry.type
class CategoryQueries:
    @strawberry.field(description="The category taxonomy, every detailed category.")
    def categories(self, info: Info, locale: Locale | None = None) -> list[CategoryDefinition]:
        shown = locale or info.context.locale
        return [CategoryDefinition.of(c, shown) for c in taxonomy.categories()]

    @scoped("The customer's categorization rules, oldest first.", TRANSACTIONS_READ)
    async def category_rules(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[CategoryRule] | None:
        context = info.context
        user_id = context.principal.user_id
        readable = await context.account_ids()
        locale = context.locale
        return await connection(
            info,
            RULE_ORDER,
            first=first,
            after=after,
            last=last,
            before=before,
            page=lambda session, window: rules.rule_window(session, user_id, readable, window),
            count=lambda session: rules.rule_count(session, user_id, readable),
            to_node=lambda rule: CategoryRule.of(rule, locale),
        )

    @scoped(
        "Recurring payment streams (inflows and outflows) of the consented accounts.",
        TRANSACTIONS_READ,
    )
    async def recurring_payments(
        self, info: Info, filter: RecurringFilter | None = None
    ) -> list[RecurringPayment] | None:
        context = info.context
        wanted = filter or RecurringFilter()
        requested = pks_of(check_list("accountIds", wanted.account_ids), "Account")
        readable = within(await context.account_ids(), requested)
        await refuse_unreadable(info, {"Account": wanted.account_ids})
        as_of = wanted.as_of or utcnow().astimezone(BANK_TIMEZONE).date()
        async with context.db.session() as session:
            streams = await recurring.streams_of(session, readable, as_of)
        found = [RecurringPayment.of(s, context.locale) for s in streams]
        if wanted.direction is not None:
            found = [s for s in found if s.direction == wanted.direction]
        if wanted.status:
            found = [s for s in found if s.status in wanted.status]
        if wanted.frequency:
            found = [s for s in found if s.frequency in wanted.frequency]
        return found
