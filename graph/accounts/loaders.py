"""Accounts, institutions and balances, batched per request."""

from __future__ import annotations

from collections.abc import Sequence

from aiodataloader import DataLoader

from graph.core.dataloaders import OwnedRowById, Reader, group_rows
from ledger.queries import rows
from ledger.queries.results import AccountRow, BalanceRow, InstitutionRow


class AccountByIdLoader(OwnedRowById[AccountRow]):
    def __init__(self, reader: Reader) -> None:
        super().__init__(reader, rows.accounts_by_id)


class InstitutionByIdLoader(DataLoader[int, InstitutionRow | None]):
    """Institutions are public reference data: no ownership to check."""

    def __init__(self, reader: Reader) -> None:
        super().__init__()
        self.reader = reader

    async def batch_load_fn(self, keys: Sequence[int]) -> list[InstitutionRow | None]:
        async with self.reader.db.session() as session:
            found = await rows.institutions_by_id(session, keys)
        by_id = {row.id: row for row in found}
        return [by_id.get(key) for key in keys]


class BalancesByAccountLoader(DataLoader[int, list[BalanceRow]]):
    def __init__(self, reader: Reader) -> None:
        super().__init__()
        self.reader = reader

    async def batch_load_fn(self, keys: Sequence[int]) -> list[list[BalanceRow]]:
        readable = set(await self.reader.account_ids())
        async with self.reader.db.session() as session:
            found = await rows.latest_balances(session, [k for k in keys if k in readable])
        return group_rows(found, lambda row: row.account_id, keys)
