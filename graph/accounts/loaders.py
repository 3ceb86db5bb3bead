"""Accounts, institutions and balances, batched per request."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aiodataloader import DataLoader

from graph.core.dataloaders import OwnedRowById, Reader, group_rows
from ledger import reconciliation
from ledger.queries import history_views, rows
from ledger.queries.history_views import SyncRunRow
from ledger.queries.results import AccountRow, BalanceRow, InstitutionRow
from ledger.reconciliation import ReconciliationRow


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


@dataclass(frozen=True, slots=True)
class SyncState:
    """An account's latest check against the bank and its connection's newest sync run."""

    check: ReconciliationRow | None
    run: SyncRunRow | None


class SyncStateByAccountLoader(DataLoader[int, SyncState]):
    """Two statements per batch, whatever its size: the latest checks, the newest runs."""

    def __init__(self, reader: Reader) -> None:
        super().__init__()
        self.reader = reader

    async def batch_load_fn(self, keys: Sequence[int]) -> list[SyncState]:
        readable = set(await self.reader.account_ids())
        visible = [k for k in keys if k in readable]
        async with self.reader.db.session() as session:
            checks = await reconciliation.latest(session, visible)
            runs = await history_views.last_sync_runs(session, visible)
        run_of = {run.account_id: run for run in runs}
        return [SyncState(checks.get(key), run_of.get(key)) for key in keys]
