"""Cards, batched per request."""

from __future__ import annotations

from collections.abc import Sequence

from aiodataloader import DataLoader

from graph.core.dataloaders import OwnedRowById, Reader, group_rows
from ledger.queries import rows
from ledger.queries.results import CardRow


class CardByIdLoader(OwnedRowById[CardRow]):
    def __init__(self, reader: Reader) -> None:
        super().__init__(reader, rows.cards_by_id)


class CardsByAccountLoader(DataLoader[int, list[CardRow]]):
    def __init__(self, reader: Reader) -> None:
        super().__init__()
        self.reader = reader

    async def batch_load_fn(self, keys: Sequence[int]) -> list[list[CardRow]]:
        readable = set(await self.reader.account_ids())
        async with self.reader.db.session() as session:
            found = await rows.cards_by_account(session, [k for k in keys if k in readable])
        return group_rows(found, lambda row: row.account_id, keys)
