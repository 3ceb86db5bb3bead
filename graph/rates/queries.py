"""The root `exchangeRates` field: the stored official series."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry

from graph.context import Info
from graph.core.errors import BadUserInput
from graph.core.inputs import check_period
from graph.insights.types import ExchangeRate
from graph.rates.types import check_currency
from ledger import rates

MAX_DAYS = 366


@strawberry.type
class RateQueries:
    @strawberry.field(
        description="The stored rates of `base` in `quote` (one `base` buys `rate` `quote`) "
        "for the days of `[from, to]` with a publication, oldest first; NBT's official "
        "rates are quoted against TJS. A day without a row had no publication: its rate is "
        "the latest earlier one. At most 366 days per query. Public reference data: needs "
        "no scope beyond a valid token."
    )
    async def exchange_rates(
        self,
        info: Info,
        base: str,
        from_: Annotated[date, strawberry.argument(name="from")],
        to: date,
        quote: str = "TJS",
    ) -> list[ExchangeRate]:
        check_period(from_, to)
        if (to - from_).days >= MAX_DAYS:
            raise BadUserInput(f"At most {MAX_DAYS} days per query.")
        check_currency(base)
        check_currency(quote)
        async with info.context.db.session() as session:
            found = await rates.series(session, base, quote, from_, to)
        return [
            ExchangeRate(base=r.base, quote=r.quote, rate=r.rate, date=r.on_date, source=r.source)
            for r in found
        ]
