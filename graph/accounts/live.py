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

import httpx
from aiodataloader import DataLoader

from connectors.base import BalanceRecord
from connectors.credentials import CredentialsError, decrypt
from connectors.factory import open_connector
from connectors.obp.errors import UpstreamError
from graph.core.dataloaders import Reader
from graph.core.errors import UpstreamUnavailable
from ledger.queries import rows
from ledger.queries.results import AccountUpstreamRow

log = logging.getLogger(__name__)


class BankAccess:
    """How the API reaches banks: the server secret (to decrypt credentials) and, in tests
    and the demo, a transport to the sandbox."""

    def __init__(self, secret: str, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.secret = secret
        self.transport = transport

    async def balances(
        self, upstream: Sequence[AccountUpstreamRow]
    ) -> dict[int, list[BalanceRecord]]:
        """Balances of accounts that share one connection, from one upstream call."""
        first = upstream[0]
        by_external = {row.external_id: row.account_id for row in upstream}
        connector = open_connector(
            first.provider,
            first.base_url,
            first.bank_id,
            decrypt(first.credentials_encrypted, self.secret),
            transport=self.transport,
            max_retries=1,
        )
        try:
            page = await connector.balances(list(by_external))
        finally:
            await connector.aclose()
        found: dict[int, list[BalanceRecord]] = defaultdict(list)
        for record in page.records:
            if isinstance(record, BalanceRecord) and record.account_external_id in by_external:
                found[by_external[record.account_external_id]].append(record)
        return found


class LiveBalancesByAccountLoader(DataLoader[int, list[BalanceRecord]]):
    def __init__(self, reader: Reader, bank: BankAccess) -> None:
        super().__init__()
        self.reader = reader
        self.bank = bank

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
