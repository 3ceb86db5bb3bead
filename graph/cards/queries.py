"""The root `cards` field."""

from __future__ import annotations

import strawberry

from graph.auth.scopes import CARDS_READ
from graph.cards.types import Card
from graph.context import Info
from graph.core.pagination import Connection, Ordering, PageRequest
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
        context = info.context
        request = PageRequest.parse(
            ORDERING, context.settings, first=first, after=after, last=last, before=before
        )
        readable = await context.account_ids()
        async with context.db.session() as session:
            found = await pages.card_page(session, readable, request.window)

        async def count_all() -> int:
            async with context.db.session() as session:
                return await pages.card_count(session, readable)

        return request.connection(found, Card.from_row, count_all)
