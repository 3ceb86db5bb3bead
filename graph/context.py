"""The per-request context: who is asking, the database session, the dataloaders, and the
trail of what the request did."""

from __future__ import annotations

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from connectors.bank_access import BankAccess
from connectors.keys import Keyring
from graph.audit.trail import Trail
from graph.auth.principal import Principal
from graph.core.dataloaders import RequestDb
from graph.core.loaders import RequestLoaders
from graph.core.locales import Locale
from graph.settings import Settings


class Context:
    def __init__(
        self,
        *,
        request_id: str,
        settings: Settings,
        principal: Principal,
        session: AsyncSession,
        bank: BankAccess,
        trail: Trail | None = None,
        keys: Keyring | None = None,
        base_url: str = "",
    ) -> None:
        self.request_id = request_id
        # What signs statement download links (graph/exports), and where they point.
        self.keys = keys
        self.base_url = base_url
        self.settings = settings
        self.principal = principal
        self.locale = Locale.of(principal.locale)
        self.db = RequestDb(session)
        self.bank = bank
        self.loaders = RequestLoaders(self)
        self.trail = Trail() if trail is None else trail

    def may(self, scope: str) -> bool:
        """Whether the consent grants `scope`. Every scope asked about, granted or not, is
        one the request used: the audit records it."""
        self.trail.scopes.add(scope)
        return self.principal.may(scope)

    async def account_ids(self) -> list[int]:
        """The accounts this request may read: the customer's, narrowed by the consent.
        The token check read them (`Principal.readable_accounts`): no statement here. Async
        because loaders ask through `graph.core.dataloaders.Reader`."""
        return list(self.principal.readable_accounts)


Info = strawberry.Info[Context, None]
