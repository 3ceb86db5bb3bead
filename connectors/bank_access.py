"""Live reads from banks for the API, whatever the provider.

One per process. Each call opens a connector through the factory and closes it again, so
no connection to a bank outlives the request that needed it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import httpx

from connectors.base import BalanceRecord
from connectors.credentials import decrypt
from connectors.factory import open_connector
from connectors.keys import Keyring
from connectors.tls import BankTls
from ledger.queries.results import AccountUpstreamRow


class BankAccess:
    """How the API reaches banks: the server's keys (to decrypt credentials), the TLS of
    every bank call (client certificate, CA bundle) and, in tests and the demo, a transport
    to the sandbox."""

    def __init__(
        self,
        keys: Keyring,
        transport: httpx.AsyncBaseTransport | None = None,
        tls: BankTls | None = None,
    ) -> None:
        self.keys = keys
        self.transport = transport
        self.tls = tls

    async def balances(
        self, upstream: Sequence[AccountUpstreamRow]
    ) -> dict[int, list[BalanceRecord]]:
        """Balances of accounts that share one connection, from one upstream call, by ledger
        account id. Raises connectors.errors.UpstreamError or CredentialsError."""
        first = upstream[0]
        by_external = {row.external_id: row.account_id for row in upstream}
        connector = open_connector(
            first.provider,
            first.base_url,
            first.bank_id,
            decrypt(first.credentials_encrypted, self.keys),
            transport=self.transport,
            tls=self.tls,
            max_retries=1,
        )
        try:
            page = await connector.balances(list(by_external))
        finally:
            await connector.aclose()
        found: dict[int, list[BalanceRecord]] = defaultdict(list)
        for record in page.records:
            if record.account_external_id in by_external:
                found[by_external[record.account_external_id]].append(record)
        return found
