"""Transactions by id and by service payment, batched per request."""

from __future__ import annotations

from collections.abc import Sequence

from aiodataloader import DataLoader

from graph.core.dataloaders import OwnedRowById, Reader
from ledger import revisions
from ledger.queries import rows
from ledger.queries.results import RevisionRow, TransactionRow


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


class RevisionsByTransactionLoader(DataLoader[int, list[RevisionRow]]):
    """Each transaction's revision history, oldest first: one statement per batch."""

    def __init__(self, reader: Reader) -> None:
        super().__init__()
        self.reader = reader

    async def batch_load_fn(self, keys: Sequence[int]) -> list[list[RevisionRow]]:
        readable = set(await self.reader.account_ids())
        async with self.reader.db.session() as session:
            found = await revisions.revisions_of(session, keys)
        # The history of a row of an account the request may not read is not there for it.
        return [[r for r in found.get(key, []) if r.account_id in readable] for key in keys]
