"""The root `statement` field and the lookup `Account.statement` shares with it."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry

from graph.accounts.loaders import AccountByIdLoader
from graph.auth.scopes import STATEMENTS_READ
from graph.context import Info
from graph.core.errors import NotFound
from graph.core.inputs import check_period
from graph.core.permissions import scoped
from graph.relay.ids import pk_of
from graph.statements.types import Statement
from ledger.queries import statements


async def statement_of(
    info: Info, account_pk: int, date_from: date, date_to: date, booked_only: bool
) -> Statement:
    check_period(date_from, date_to)
    account = await info.context.loaders.get(AccountByIdLoader).load(account_pk)
    if account is None:
        # Missing and not consented look the same.
        raise NotFound("No account with this ID.")
    async with info.context.db.session() as session:
        figures = await statements.statement_figures(
            session, account_pk, date_from, date_to, booked_only=booked_only
        )
    return Statement.of(
        figures,
        account_pk=account_pk,
        currency=account.currency,
        date_from=date_from,
        date_to=date_to,
        booked_only=booked_only,
    )


@strawberry.type
class StatementQueries:
    @scoped("An account's statement of a period.", STATEMENTS_READ)
    async def statement(
        self,
        info: Info,
        account_id: strawberry.ID,
        from_: Annotated[date, strawberry.argument(name="from")],
        to: date,
        booked_only: bool = True,
    ) -> Statement | None:
        return await statement_of(info, pk_of(account_id, "Account"), from_, to, booked_only)
