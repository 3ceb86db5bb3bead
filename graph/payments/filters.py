"""How clients filter service payment lists."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import strawberry

from graph.core.inputs import check_list, check_period, within
from graph.relay.ids import pks_of
from ledger.queries.pages import ServicePaymentCriteria


@strawberry.input(description="All given conditions must hold. Dates are Dushanbe bank days.")
class ServicePaymentFilter:
    account_ids: list[strawberry.ID] | None = None
    categories: list[str] | None = None
    providers: list[str] | None = None
    from_: date | None = strawberry.field(name="from", default=None)
    to: date | None = None

    def named_ids(self) -> dict[str, list[strawberry.ID] | None]:
        """The ids this filter names, by node type: audited when unreadable."""
        return {"Account": self.account_ids}


def payment_criteria(
    f: ServicePaymentFilter | None, readable: Sequence[int]
) -> ServicePaymentCriteria:
    if f is None:
        return ServicePaymentCriteria(account_ids=list(readable))
    check_period(f.from_, f.to)
    return ServicePaymentCriteria(
        account_ids=within(readable, pks_of(check_list("accountIds", f.account_ids), "Account")),
        categories=check_list("categories", f.categories),
        providers=check_list("providers", f.providers),
        date_from=f.from_,
        date_to=f.to,
    )
