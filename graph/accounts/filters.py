"""How clients filter account lists."""

from __future__ import annotations

from collections.abc import Sequence

import strawberry

from graph.accounts.types import AccountType
from graph.core.inputs import check_list
from graph.relay.ids import pks_of
from ledger.queries.pages import AccountCriteria


@strawberry.input(description="All given conditions must hold.")
class AccountFilter:
    institution_ids: list[strawberry.ID] | None = None
    types: list[AccountType] | None = None
    currencies: list[str] | None = None

    def named_ids(self) -> dict[str, list[strawberry.ID] | None]:
        """The ids this filter names, by node type: audited when unreadable."""
        return {"Institution": self.institution_ids}


def account_criteria(f: AccountFilter | None, readable: Sequence[int]) -> AccountCriteria:
    if f is None:
        return AccountCriteria(account_ids=list(readable))
    types = check_list("types", f.types)
    return AccountCriteria(
        account_ids=list(readable),
        institution_ids=pks_of(check_list("institutionIds", f.institution_ids), "Institution"),
        types=[t.value for t in types] if types is not None else None,
        currencies=check_list("currencies", f.currencies),
    )
