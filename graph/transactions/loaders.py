"""Transactions by id and by service payment, batched per request."""

from __future__ import annotations

from collections.abc import Sequence

from aiodataloader import DataLoader

from graph.core.dataloaders import OwnedRowById, Reader
from ledger.queries import rows
from ledger.queries.results import TransactionRow


class TransactionByIdLoader(OwnedRowById[TransactionRow]):
    def __init__(self, reader: Reader) -> None:
        super().__init__(reader, rows.transactions_by_id)


class TransactionByServicePaymentLoader(DataLoader[int, TransactionRow | None]):
    """The transaction that paid a service payment (the first, should there be several)."""

    def __init__(self, reader: Reader) -> None:
        super().__init__()
        self.reader = reader

    async def batch_load_fn(self, keys: Sequence[int]) -> list[TransactionRow | None]:
        account_ids = await self.reader.account_ids()
        async with self.reader.db.session() as session:
            found = await rows.transactions_by_service_payment(session, keys, account_ids)
        first: dict[int | None, TransactionRow] = {}
        for row in found:
            first.setdefault(row.service_payment_id, row)
        return [first.get(key) for key in keys]
