"""How clients filter transfer lists."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import strawberry

from graph.core.inputs import check_list, check_period, within
from graph.relay.ids import pks_of
from graph.transfers.types import Direction, TransferRail, TransferStatus
from ledger.queries.pages import TransferCriteria


@strawberry.input(description="All given conditions must hold. Dates are Dushanbe bank days.")
class TransferFilter:
    account_ids: list[strawberry.ID] | None = None
    status: list[TransferStatus] | None = None
    direction: Direction | None = None
    rails: list[TransferRail] | None = None
    corridor: str | None = strawberry.field(default=None, description='e.g. "RU->TJ".')
    from_: date | None = strawberry.field(
        name="from", default=None, description="First day initiated, inclusive."
    )
    to: date | None = strawberry.field(default=None, description="Last day initiated, inclusive.")

    def named_ids(self) -> dict[str, list[strawberry.ID] | None]:
        """The ids this filter names, by node type: audited when unreadable."""
        return {"Account": self.account_ids}


def transfer_criteria(f: TransferFilter | None, readable: Sequence[int]) -> TransferCriteria:
    if f is None:
        return TransferCriteria(account_ids=list(readable))
    check_period(f.from_, f.to)
    statuses = check_list("status", f.status)
    rails = check_list("rails", f.rails)
    return TransferCriteria(
        account_ids=within(readable, pks_of(check_list("accountIds", f.account_ids), "Account")),
        statuses=[s.value for s in statuses] if statuses is not None else None,
        direction=f.direction.value if f.direction else None,
        rails=[r.value for r in rails] if rails is not None else None,
        corridor=f.corridor,
        date_from=f.from_,
        date_to=f.to,
    )
