"""The root `statement` field and the lookup `Account.statement` shares with it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import strawberry

from graph.accounts.loaders import AccountByIdLoader
from graph.auth.scopes import STATEMENTS_READ
from graph.context import Info
from graph.core.errors import BadUserInput, NotFound
from graph.core.inputs import check_period
from graph.core.permissions import scoped
from graph.relay.ids import pk_of, to_global_id
from graph.statements.types import Statement
from ledger.queries import history_views, statements
from ledger.types import utcnow

AS_OF_DESCRIPTION = (
    "The statement as the ledger reported it at this instant, before any later revision, "
    "removal or arrival of a row (its `transactions` are the rows as they are now, each "
    "with its `revisions`). Not in the future."
)


async def statement_of(
    info: Info,
    account_pk: int,
    date_from: date,
    date_to: date,
    booked_only: bool,
    as_of: datetime | None,
) -> Statement:
    check_period(date_from, date_to)
    if as_of is not None and as_of > utcnow():
        raise BadUserInput("`asOf` must not be in the future.")
    account = await info.context.loaders.get(AccountByIdLoader).load(account_pk)
    if account is None:
        # Missing and not consented look the same, and are audited as denied.
        info.context.trail.refuse(to_global_id("Account", account_pk))
        raise NotFound("No account with this ID.")
    async with info.context.db.session() as session:
        figures = await statements.statement_figures(
            session, account_pk, date_from, date_to, booked_only=booked_only, as_of=as_of
        )
        reconciled = await history_views.period_reconciled(
            session, account_pk, date_to, as_of=as_of
        )
    return Statement.of(
        figures,
        account_pk=account_pk,
        currency=account.currency,
        date_from=date_from,
        date_to=date_to,
        booked_only=booked_only,
        as_of=as_of,
        reconciled=reconciled,
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
        as_of: Annotated[
            datetime | None, strawberry.argument(description=AS_OF_DESCRIPTION)
        ] = None,
    ) -> Statement | None:
        account_pk = pk_of(account_id, "Account")
        return await statement_of(info, account_pk, from_, to, booked_only, as_of)
