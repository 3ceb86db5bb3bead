"""Live balances: asked from the bank, one upstream call per connection per request.

`Account.liveBalances` for many accounts becomes, per connection, one
`/banks/BANK_ID/balances` call (the connector's `balances`), so a page of accounts costs
as many bank calls as it has connections. A bank that does not answer fails only the
accounts of its connection, with UPSTREAM_UNAVAILABLE; stored balances stay readable.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Sequence
from typing import Protocol

from aiodataloader import DataLoader

from connectors.bank_access import BankAccess
from connectors.base import BalanceRecord
from connectors.credentials import CredentialsError
from connectors.errors import UpstreamError
from graph.core.dataloaders import Reader
from graph.core.errors import UpstreamUnavailable
from ledger.queries import rows
from ledger.queries.results import AccountUpstreamRow

log = logging.getLogger(__name__)


class BankReader(Reader, Protocol):
    """A request that also reaches the banks."""

    bank: BankAccess


class LiveBalancesByAccountLoader(DataLoader[int, list[BalanceRecord]]):
    def __init__(self, reader: BankReader) -> None:
        super().__init__()
        self.reader = reader
        self.bank = reader.bank

    # An exception in the result list fails just that key: aiodataloader raises it from
    # `load`, which the stub's return type does not describe.
    async def batch_load_fn(  # type: ignore[override]
        self, keys: Sequence[int]
    ) -> list[list[BalanceRecord] | UpstreamUnavailable]:
        readable = set(await self.reader.account_ids())
        async with self.reader.db.session() as session:
            upstream = await rows.account_upstreams(session, [k for k in keys if k in readable])
        by_connection: dict[int, list[AccountUpstreamRow]] = defaultdict(list)
        for row in upstream:
            by_connection[row.connection_id].append(row)
        outcomes = await asyncio.gather(
            *(self._ask(accounts) for accounts in by_connection.values())
        )
        merged: dict[int, list[BalanceRecord] | UpstreamUnavailable] = {}
        for outcome in outcomes:
            merged.update(outcome)
        return [merged.get(key, []) for key in keys]

    async def _ask(
        self, accounts: list[AccountUpstreamRow]
    ) -> dict[int, list[BalanceRecord] | UpstreamUnavailable]:
        try:
            found = await self.bank.balances(accounts)
        except (UpstreamError, CredentialsError) as exc:
            log.warning("live balances of connection %s failed: %s", accounts[0].connection_id, exc)
            failure = UpstreamUnavailable(
                "The bank did not answer; the stored balances are still available."
            )
            return {row.account_id: failure for row in accounts}
        return {row.account_id: found.get(row.account_id, []) for row in accounts}
