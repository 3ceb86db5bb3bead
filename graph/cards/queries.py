"""The root `cards` field."""

from __future__ import annotations

import strawberry

from graph.auth.scopes import CARDS_READ
from graph.cards.types import Card
from graph.context import Info
from graph.core.pagination import Connection, Ordering, connection
from graph.core.permissions import scoped
from ledger.queries import pages
from ledger.queries.pages import CARD_KEYS

ORDERING = Ordering("card", CARD_KEYS, descending=False)


@strawberry.type
class CardQueries:
    @scoped("Cards of the consented accounts.", CARDS_READ)
    async def cards(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Card] | None:
        readable = await info.context.account_ids()
        return await connection(
            info,
            ORDERING,
            first=first,
            after=after,
            last=last,
            before=before,
            page=lambda session, window: pages.card_page(session, readable, window),
            count=lambda session: pages.card_count(session, readable),
            to_node=Card.from_row,
        )
