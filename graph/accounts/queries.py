"""The root `accounts` and `institutions` fields."""

from __future__ import annotations

import strawberry

from graph.accounts.filters import AccountFilter, account_criteria
from graph.accounts.types import Account, Institution
from graph.auth.scopes import ACCOUNTS_READ
from graph.context import Info
from graph.core.pagination import Connection, Ordering, connection
from graph.core.permissions import scoped
from graph.relay.queries import refuse_unreadable
from ledger.queries import pages, rows
from ledger.queries.pages import ACCOUNT_KEYS

ORDERING = Ordering("acc", ACCOUNT_KEYS, descending=False)


@strawberry.type
class AccountQueries:
    @strawberry.field(description="The institutions the service knows.")
    async def institutions(self, info: Info) -> list[Institution]:
        async with info.context.db.session() as session:
            found = await rows.all_institutions(session)
        return [Institution.from_row(row) for row in found]

    @scoped("The consented accounts, oldest first.", ACCOUNTS_READ)
    async def accounts(
        self,
        info: Info,
        filter: AccountFilter | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Account] | None:
        criteria = account_criteria(filter, await info.context.account_ids())
        await refuse_unreadable(info, filter.named_ids() if filter else {})
        return await connection(
            info,
            ORDERING,
            first=first,
            after=after,
            last=last,
            before=before,
            page=lambda session, window: pages.account_page(session, criteria, window),
            count=lambda session: pages.account_count(session, criteria),
            to_node=Account.from_row,
        )
