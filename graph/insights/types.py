"""Spending insights: where the money went, in one reporting currency."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import Enum

import strawberry

from graph.core.locales import Locale
from graph.core.scalars import Money
from graph.insights.labels import group_label
from ledger.queries.spending import AppliedRate, SpendingSummary


@strawberry.enum
class InsightGrouping(Enum):
    CATEGORY = "CATEGORY"  # the detailed category
    PRIMARY_CATEGORY = "PRIMARY_CATEGORY"  # its primary (FOOD_AND_DRINK, ...)
    MERCHANT = "MERCHANT"
    MONTH = "MONTH"


@strawberry.enum
class ExclusionReason(Enum):
    NO_RATE = "NO_RATE"


@strawberry.type
class InsightGroup:
    key: str = strawberry.field(
        description='Category code, primary category, merchant name or month ("2025-03"); '
        '"" when unknown.'
    )
    label: str
    total: Money = strawberry.field(description="Money spent, positive.")
    count: int
    percent: Decimal = strawberry.field(
        description="Share of the total with two decimals; the groups add up to exactly 100 "
        "(largest-remainder rounding)."
    )


@strawberry.type(description="One unit of `base` buys `rate` units of `quote`.")
class ExchangeRate:
    base: str
    quote: str
    rate: Decimal
    date: date
    source: str = strawberry.field(description="NBT is the National Bank of Tajikistan.")

    @classmethod
    def of(cls, applied: AppliedRate) -> ExchangeRate:
        return cls(
            base=applied.base,
            quote=applied.quote,
            rate=applied.rate,
            date=applied.on_date,
            source=applied.source,
        )


@strawberry.type(description="Spending left out of the totals, in its own currency.")
class InsightExclusion:
    total: Money
    count: int
    reason: ExclusionReason


@strawberry.type(
    description="Debits of the period (booked and pending; currency exchanges and transfers "
    "between the customer's own accounts are not spending), grouped and converted into "
    "`currency` at the latest rate on or before each day."
)
class SpendingInsights:
    from_: date = strawberry.field(name="from")
    to: date
    currency: str
    total: Money
    groups: list[InsightGroup] = strawberry.field(description="Largest first.")
    rates: list[ExchangeRate] = strawberry.field(description="The rates used, with sources.")
    excluded: list[InsightExclusion] = strawberry.field(
        description="Spending that could not be converted (no rate on or before its day)."
    )

    @classmethod
    def of(
        cls,
        summary: SpendingSummary,
        *,
        grouping: InsightGrouping,
        locale: Locale,
        date_from: date,
        date_to: date,
    ) -> SpendingInsights:
        currency = summary.currency
        return cls(
            from_=date_from,
            to=date_to,
            currency=currency,
            total=Money.of(summary.total),
            groups=[
                InsightGroup(
                    key=g.key,
                    label=group_label(grouping.value, g.key, locale),
                    total=Money.of(g.total),
                    count=g.count,
                    percent=g.percent,
                )
                for g in summary.groups
            ],
            rates=[ExchangeRate.of(r) for r in summary.rates],
            excluded=[
                InsightExclusion(
                    total=Money.of(e.total),
                    count=e.count,
                    reason=ExclusionReason(e.reason),
                )
                for e in summary.excluded
            ],
        )
