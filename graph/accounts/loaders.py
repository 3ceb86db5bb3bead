"""Accounts, institutions and balances, batched per request."""

from __future__ import annotations

from collections.abc import Sequence

from aiodataloader import DataLoader
from sqlalchemy import RowMapping

from graph.core.dataloaders import OwnedRowById, Reader, group_rows
from ledger.queries import rows


class AccountByIdLoader(OwnedRowById):
    def __init__(self, reader: Reader) -> None:
        super().__init__(reader, rows.accounts_by_id)


class InstitutionByIdLoader(DataLoader[int, RowMapping | None]):
    """Institutions are public reference data: no ownership to check."""

    def __init__(self, reader: Reader) -> None:
        super().__init__()
        self.reader = reader

    async def batch_load_fn(self, keys: Sequence[int]) -> list[RowMapping | None]:
        async with self.reader.db.session() as session:
            found = await rows.institutions_by_id(session, keys)
        by_id = {row["id"]: row for row in found}
        return [by_id.get(key) for key in keys]


class BalancesByAccountLoader(DataLoader[int, list[RowMapping]]):
    def __init__(self, reader: Reader) -> None:
        super().__init__()
        self.reader = reader

    async def batch_load_fn(self, keys: Sequence[int]) -> list[list[RowMapping]]:
        readable = set(await self.reader.account_ids())
        async with self.reader.db.session() as session:
            found = await rows.latest_balances(session, [k for k in keys if k in readable])
        return group_rows(found, "account_id", keys)
