"""`connectors.base.Connector` for one bank behind an OBP API: client + mapper.

The client knows HTTP, the mapper knows JSON; this class only decides which calls make
up each sync step, and through which of the user's views each account is read.
Transient upstream errors propagate (the sync engine retries the step later); an
upstream refusal for one account becomes a SyncIssue for that account.
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
from connectors.obp.views import OWNER_VIEW, choose_view, views_listed

DEFAULT_PAGE_SIZE = 100


def _now() -> datetime:
    return datetime.now(UTC)


def _merge(summary: dict[str, Any], detail: dict[str, Any]) -> dict[str, Any]:
    # The detail wins, except where its view hid a field (null) the summary has.
    return {**summary, **{k: v for k, v in detail.items() if v is not None}}


def _raw_id(item: Any) -> str | None:
    value = item.get("id") if isinstance(item, dict) else None
    return value if isinstance(value, str) else None


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
        # Public: the sync engine's window reader asks for pages of this size.
        self.page_size = page_size
        self._clock = clock
        # account id -> the view it is read through (None: no usable view); filled from
        # /my/accounts by accounts(), or on first need.
        self._views: dict[str, str | None] | None = None

    async def _summaries(self) -> list[Any]:
        """This bank's entries of `/my/accounts`; learns each account's view on the way."""
        summaries = [
            a
            for a in await self._client.my_accounts()
            if not isinstance(a, dict) or a.get("bank_id") == self._bank_id
        ]
        views: dict[str, str | None] = {}
        for summary in summaries:
            account_id = _raw_id(summary)
            if account_id is not None:
                listed = views_listed(summary)
                # No list at all (an older shape): OBP's default view, as ever.
                views[account_id] = OWNER_VIEW if listed is None else choose_view(listed)
        self._views = views
        return summaries

    async def _view_of(self, account_id: str) -> str:
        if self._views is None:
            await self._summaries()
        assert self._views is not None
        view = self._views.get(account_id)
        if view is None:
            raise UpstreamForbidden(
                "none of the user's views on this account can see its transactions",
                endpoint=f"account {account_id}",
            )
        return view

    async def accounts(self) -> Page[AccountRecord]:
        """`/my/accounts` at this bank, then each account's details (currency, product)
        through the view chosen for it."""
        summaries = await self._summaries()
        assert self._views is not None
        details: list[Any] = []
        issues: list[SyncIssue] = []
        for summary in summaries:
            account_id = _raw_id(summary)
            if account_id is None:
                details.append(summary)  # the mapper reports it
                continue
            view = self._views[account_id]
            if view is None:
                listed = views_listed(summary) or []
                names = ", ".join(v["id"] for v in listed if isinstance(v, dict) and "id" in v)
                issues.append(
                    SyncIssue(
                        "account",
                        account_id,
                        f"no view the user has on this account can see its transactions"
                        f" (views: {names or 'none'})",
                    )
                )
                continue
            try:
                detail = await self._client.account(self._bank_id, account_id, view)
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

    async def transaction_page(
        self,
        account_external_id: str,
        *,
        since: datetime | None,
        until: datetime | None,
        offset: int,
        limit: int,
    ) -> Page[TransactionPageRecord]:
        """One page, oldest first asked, exactly as served (see `Connector`). Records are
        not filtered by date here: OBP-API filters and sorts on `completed`
        (LocalMappedConnector, `tFinishDate`) while `booked_at` is `posted`, and dropping a
        served row would lose it for good."""
        view = await self._view_of(account_external_id)
        raw = await self._client.transactions_page(
            self._bank_id,
            account_external_id,
            view,
            limit=limit,
            offset=offset,
            from_date=since,
            to_date=until,
            sort="ASC",
        )
        return self._mapper.map_transactions(raw, account_external_id, offset)

    async def transfer_pages(self, account_external_id: str) -> AsyncIterator[Page[TransferRecord]]:
        """Transaction requests in pages where the bank pages them (the sandbox does), else
        the whole list as one page. A page shorter than asked may be the bank's cap, so the
        reading goes on; it ends on an empty page, on a page longer than asked (the bank
        does not page: that was the whole list), or on a page that brings no id not served
        before (the bank ignores the offset)."""
        view = await self._view_of(account_external_id)
        offset = 0
        seen: set[str] = set()
        while True:
            raw = await self._client.transaction_requests(
                self._bank_id, account_external_id, view, limit=self.page_size, offset=offset
            )
            ids = {i for i in map(_raw_id, raw) if i is not None}
            if not raw or (offset and not ids - seen):
                return
            seen |= ids
            page = self._mapper.map_transfers(raw, account_external_id)
            page.offset = offset
            yield page
            if len(raw) > self.page_size:
                return
            offset += len(raw)

    async def aclose(self) -> None:
        await self._client.aclose()
