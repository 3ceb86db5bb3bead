"""The true cost of cross-border transfers, per corridor, month or counterparty."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import Enum

import strawberry

from graph.core.scalars import Money
from ledger.queries.remittances import RemittanceGroup

# UN Sustainable Development Goal 10.c: remittance costs below 3 % by 2030.
SDG_TARGET_PERCENT = Decimal("3.00")


@strawberry.enum
class RemittanceGrouping(Enum):
    CORRIDOR = "CORRIDOR"
    MONTH = "MONTH"
    COUNTERPARTY = "COUNTERPARTY"


@strawberry.type(
    description="Cross-border transfers of one corridor and rail, month or counterparty. "
    "Amounts valued in TJS at NBT's official rate of each transfer's day; the cost is the fee "
    "plus the exchange-rate margin against that rate, as the World Bank's Remittance Prices "
    "Worldwide measures it. Only COMPLETED transfers are priced."
)
class RemittanceGroupSummary:
    key: str = strawberry.field(
        description='"RU->TJ MONEY_TRANSFER_SYSTEM", "2025-03" or the counterparty\'s name.'
    )
    corridor: str | None = strawberry.field(description='e.g. "RU->TJ" (CORRIDOR only).')
    sending_country: str | None
    receiving_country: str | None
    rail: str | None
    month: str | None
    counterparty: str | None
    count: int = strawberry.field(description="Every transfer of the group, whatever its status.")
    completed: int
    failed: int
    cancelled: int
    returned: int
    in_progress: int
    unpriced: int = strawberry.field(
        description="Completed transfers left out of the cost figures: no NBT rate for a "
        "currency they need on or before their day."
    )
    sent: list[Money] = strawberry.field(
        description="Completed transfers' amounts sent, per original currency."
    )
    sent_tjs: Money = strawberry.field(description="The priced amounts sent, in TJS.")
    received_tjs: Money
    fees_tjs: Money
    fx_margin_tjs: Money = strawberry.field(
        description="What the exchange rates applied cost against NBT's official rate."
    )
    total_cost_percent: Decimal | None = strawberry.field(
        description="(fees + FX margin) / amount sent x 100 over the group, two decimals; "
        "null with nothing priced."
    )
    average_cost_percent: Decimal | None = strawberry.field(
        description="The mean of the transfers' own cost percentages (RPW averages a "
        "corridor's offers so)."
    )
    median_completion_seconds: int | None = strawberry.field(
        description="Median time from creation to completion, from the status history."
    )

    @classmethod
    def of(cls, group: RemittanceGroup) -> RemittanceGroupSummary:
        sending, receiving = None, None
        if group.corridor and "->" in group.corridor:
            sending, receiving = group.corridor.split("->", 1)
        return cls(
            key=group.key,
            corridor=group.corridor,
            sending_country=sending,
            receiving_country=receiving,
            rail=group.rail,
            month=group.month,
            counterparty=group.counterparty,
            count=group.count,
            completed=group.completed,
            failed=group.failed,
            cancelled=group.cancelled,
            returned=group.returned,
            in_progress=group.in_progress,
            unpriced=group.unpriced,
            sent=[Money.of(m) for m in group.money_sent()],
            sent_tjs=Money.of(group.sent_tjs),
            received_tjs=Money.of(group.received_tjs),
            fees_tjs=Money.of(group.fees_tjs),
            fx_margin_tjs=Money.of(group.fx_margin_tjs),
            total_cost_percent=group.total_cost_percent,
            average_cost_percent=group.average_cost_percent,
            median_completion_seconds=group.median_completion_seconds,
        )


@strawberry.type(description="What the period's cross-border transfers really cost.")
class RemittanceSummary:
    from_: date = strawberry.field(name="from")
    to: date
    group_by: RemittanceGrouping
    groups: list[RemittanceGroupSummary] = strawberry.field(
        description="Largest amount sent (in TJS) first."
    )
    total: RemittanceGroupSummary = strawberry.field(description="All groups together.")
    sdg_target_percent: Decimal = strawberry.field(
        description="The UN SDG 10.c target for the cost of a remittance: 3 %."
    )
