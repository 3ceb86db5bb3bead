"""Transfers and their status histories, batched per request."""

from __future__ import annotations

from collections.abc import Sequence

from aiodataloader import DataLoader

from graph.core.dataloaders import OwnedRowById, Reader, group_rows
from ledger.queries import rows
from ledger.queries.results import TransferEventRow, TransferRow


class TransferByIdLoader(OwnedRowById[TransferRow]):
    def __init__(self, reader: Reader) -> None:
        super().__init__(reader, rows.transfers_by_id)


class TransferEventsByTransferLoader(DataLoader[int, list[TransferEventRow]]):
    """Keys are ids of transfers already read through `TransferByIdLoader` or a page, both
    of which check the account."""

    def __init__(self, reader: Reader) -> None:
        super().__init__()
        self.reader = reader

    async def batch_load_fn(self, keys: Sequence[int]) -> list[list[TransferEventRow]]:
        async with self.reader.db.session() as session:
            found = await rows.transfer_events(session, keys)
        return group_rows(found, lambda row: row.transfer_id, keys)
