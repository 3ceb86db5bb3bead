"""Exchange rates for conversions, batched per request: every `amountIn` of a page asks
the ledger once per target currency."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date

from aiodataloader import DataLoader

from graph.core.dataloaders import Reader
from ledger import fx

RateKey = tuple[str, str, date]  # (currency, target, day)


class RateOnDayLoader(DataLoader[RateKey, fx.AppliedRate | None]):
    """The rate that converts `currency` into `target` on `day` (`ledger.fx.RateBook`):
    the latest on or before it, NBT first. Public reference data: no ownership involved."""

    def __init__(self, reader: Reader) -> None:
        super().__init__()
        self.reader = reader

    async def batch_load_fn(self, keys: Sequence[RateKey]) -> list[fx.AppliedRate | None]:
        by_target: dict[str, list[RateKey]] = defaultdict(list)
        for key in keys:
            by_target[key[1]].append(key)
        books: dict[str, fx.RateBook] = {}
        async with self.reader.db.session() as session:
            for target, wanted in by_target.items():
                currencies = sorted({c for c, _, _ in wanted})
                until = max(d for _, _, d in wanted)
                books[target] = await fx.rate_book(session, target, currencies, until)
        return [books[target].on(currency, day) for currency, target, day in keys]
