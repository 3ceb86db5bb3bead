"""`connectors.base.Connector` for one bank behind an OBP API: client + mapper.

The client knows HTTP, the mapper knows JSON; this class only decides which calls make
up each sync step. Transient upstream errors propagate (the sync engine retries the
step later); an upstream refusal for one account becomes a SyncIssue for that account.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

from connectors.base import (
    AccountRecord,
    BalanceRecord,
    CardRecord,
    Page,
    SyncIssue,
    TransactionPageRecord,
    TransferRecord,
)
from connectors.errors import UpstreamForbidden, UpstreamNotFound
from connectors.obp.client import ObpClient
from connectors.obp.mapping import ObpMapper

DEFAULT_PAGE_SIZE = 100


def _now() -> datetime:
    return datetime.now(UTC)


def _merge(summary: dict[str, Any], detail: dict[str, Any]) -> dict[str, Any]:
    # The detail wins, except where its view hid a field (null) the summary has.
    return {**summary, **{k: v for k, v in detail.items() if v is not None}}


class ObpConnector:
    def __init__(
        self,
        client: ObpClient,
        mapper: ObpMapper,
        bank_id: str,
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        if page_size < 1:
            raise ValueError("page_size must be >= 1")
        self._client = client
        self._mapper = mapper
        self._bank_id = bank_id
        # Public: the sync engine skips this far past a page it could not read.
        self.page_size = page_size
        self._clock = clock

    async def accounts(self) -> Page[AccountRecord]:
        """`/my/accounts` at this bank, then each account's details (currency, product)."""
        summaries = [
            a
            for a in await self._client.my_accounts()
            if not isinstance(a, dict) or a.get("bank_id") == self._bank_id
        ]
        details: list[Any] = []
        issues: list[SyncIssue] = []
        for summary in summaries:
            account_id = summary.get("id") if isinstance(summary, dict) else None
            if not isinstance(account_id, str):
                details.append(summary)  # the mapper reports it
                continue
            try:
                detail = await self._client.account(self._bank_id, account_id)
            except (UpstreamForbidden, UpstreamNotFound) as exc:
                issues.append(SyncIssue("account", account_id, str(exc)))
                continue
            except ValueError:
                issues.append(SyncIssue("account", None, "account id is not a valid OBP id"))
                continue
            details.append(_merge(summary, detail))
        page = self._mapper.map_accounts(details)
        page.issues.extend(issues)
        page.raw_count = len(summaries)
        return page

    async def balances(self, account_external_ids: list[str]) -> Page[BalanceRecord]:
        """All requested balances from ONE `/banks/ID/balances` call."""
        as_of = self._clock()
        wanted = set(account_external_ids)
        entries = [
            e
            for e in await self._client.bank_balances(self._bank_id)
            if isinstance(e, dict) and e.get("account_id") in wanted
        ]
        page = self._mapper.map_balances(entries, as_of)
        found = {e["account_id"] for e in entries}
        page.issues.extend(
            SyncIssue("balance", account_id, "account missing from the bank balances answer")
            for account_id in account_external_ids
            if account_id not in found
        )
        return page

    async def cards(self) -> Page[CardRecord]:
        """`/cards` lists cards at every bank; keep this bank's (and those that do not say)."""
        raw = [
            c
            for c in await self._client.cards()
            if not isinstance(c, dict) or c.get("bank_id") in (None, self._bank_id)
        ]
        return self._mapper.map_cards(raw)

    async def transaction_pages(
        self, account_external_id: str, since: datetime | None, offset: int = 0
    ) -> AsyncIterator[Page[TransactionPageRecord]]:
        """Oldest first from `since`; resume with `offset = page.offset + page.raw_count`
        and the same `since` (the offset counts within that date window)."""
        async for page_offset, raw in self._client.iter_transaction_pages(
            self._bank_id,
            account_external_id,
            limit=self.page_size,
            offset=offset,
            from_date=since,
            sort="ASC",
        ):
            yield self._mapper.map_transactions(raw, account_external_id, page_offset)

    async def transfer_pages(self, account_external_id: str) -> AsyncIterator[Page[TransferRecord]]:
        """Transaction requests in pages where the bank pages them (the sandbox does), else
        the whole list as one page: a bank that ignores `limit` answers with more than asked
        or repeats the first page, and either ends the loop."""
        offset = 0
        first_id: object = None
        while True:
            raw = await self._client.transaction_requests(
                self._bank_id, account_external_id, limit=self.page_size, offset=offset
            )
            head = raw[0].get("id") if raw and isinstance(raw[0], dict) else None
            if offset and head is not None and head == first_id:
                return
            first_id = first_id if offset else head
            page = self._mapper.map_transfers(raw, account_external_id)
            page.offset = offset
            yield page
            if len(raw) != self.page_size:
                return
            offset += len(raw)

    async def aclose(self) -> None:
        await self._client.aclose()
