"""How clients filter and order transaction lists."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import Enum

import strawberry

from graph.core.errors import BadUserInput
from graph.core.inputs import check_list, check_period, within
from graph.relay.ids import pks_of
from graph.transactions.types import BookingStatus, TransactionType
from ledger.queries.pages import TransactionCriteria

MAX_SEARCH_LENGTH = 100


@strawberry.enum(description="Booking date order; the id breaks ties, so the order is stable.")
class TransactionOrder(Enum):
    BOOKING_DATE_DESC = "BOOKING_DATE_DESC"
    BOOKING_DATE_ASC = "BOOKING_DATE_ASC"


@strawberry.input(description="All given conditions must hold.")
class TransactionFilter:
    account_ids: list[strawberry.ID] | None = None
    card_ids: list[strawberry.ID] | None = None
    from_: date | None = strawberry.field(
        name="from", default=None, description="First booking date, inclusive."
    )
    to: date | None = strawberry.field(default=None, description="Last booking date, inclusive.")
    status: BookingStatus | None = None
    types: list[TransactionType] | None = None
    categories: list[str] | None = strawberry.field(
        default=None, description="Category codes, e.g. groceries; the customer's own wins."
    )
    min_amount: Decimal | None = strawberry.field(
        default=None, description="Lower bound of the absolute amount, inclusive."
    )
    max_amount: Decimal | None = strawberry.field(
        default=None, description="Upper bound of the absolute amount, inclusive."
    )
    search: str | None = strawberry.field(
        default=None, description="Text in the description, counterparty or merchant."
    )
    updated_since: datetime | None = strawberry.field(
        default=None, description="Changed at or after this instant: incremental sync."
    )

    def named_ids(self) -> dict[str, list[strawberry.ID] | None]:
        """The ids this filter names, by node type: audited when unreadable."""
        return {"Account": self.account_ids, "Card": self.card_ids}


def transaction_criteria(
    f: TransactionFilter | None, readable: Sequence[int]
) -> TransactionCriteria:
    """The ledger criteria of a filter, over the accounts the request may read."""
    if f is None:
        return TransactionCriteria(account_ids=list(readable))
    check_period(f.from_, f.to)
    for name, bound in (("minAmount", f.min_amount), ("maxAmount", f.max_amount)):
        if bound is not None and bound < 0:
            raise BadUserInput(f"`{name}` bounds the absolute amount; it must not be negative.")
    if f.min_amount is not None and f.max_amount is not None and f.min_amount > f.max_amount:
        raise BadUserInput("`minAmount` must not exceed `maxAmount`.")
    if f.search is not None and len(f.search) > MAX_SEARCH_LENGTH:
        raise BadUserInput(f"`search` takes at most {MAX_SEARCH_LENGTH} characters.")
    types = check_list("types", f.types)
    return TransactionCriteria(
        account_ids=within(readable, pks_of(check_list("accountIds", f.account_ids), "Account")),
        card_ids=pks_of(check_list("cardIds", f.card_ids), "Card"),
        date_from=f.from_,
        date_to=f.to,
        status=f.status.value if f.status else None,
        types=[t.value for t in types] if types is not None else None,
        categories=check_list("categories", f.categories),
        min_amount=f.min_amount,
        max_amount=f.max_amount,
        search=f.search or None,
        updated_since=f.updated_since,
    )
