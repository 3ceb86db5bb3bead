"""The root `transfers` field."""

from __future__ import annotations

import strawberry

from graph.auth.scopes import TRANSFERS_READ
from graph.context import Info
from graph.core.pagination import Connection, Ordering, connection
from graph.core.permissions import scoped
from graph.relay.queries import refuse_unreadable
from graph.transfers.filters import TransferFilter, transfer_criteria
from graph.transfers.types import Transfer
from ledger.queries import pages
from ledger.queries.pages import TRANSFER_KEYS

ORDERING = Ordering("trf", TRANSFER_KEYS, descending=True)


@strawberry.type
class TransferQueries:
    @scoped("Transfers of the consented accounts, newest first.", TRANSFERS_READ)
    async def transfers(
        self,
        info: Info,
        filter: TransferFilter | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Transfer] | None:
        criteria = transfer_criteria(filter, await info.context.account_ids())
        await refuse_unreadable(info, filter.named_ids() if filter else {})
        return await connection(
            info,
            ORDERING,
            first=first,
            after=after,
            last=last,
            before=before,
            page=lambda session, window: pages.transfer_page(session, criteria, window),
            count=lambda session: pages.transfer_count(session, criteria),
            to_node=Transfer.from_row,
        )
