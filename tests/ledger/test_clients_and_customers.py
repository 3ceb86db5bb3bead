"""The client registry's storage and the customer reads of the consent pages."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledger import clients, customers

from .factories import connected_account

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


async def _register(s: AsyncSession, client_id: str = "app_one") -> clients.RegisteredClient:
    return await clients.register(
        s,
        client_id=client_id,
        name="One",
        secret_hash="scrypt$hash",
        redirect_uris=["https://one.example/cb", "http://localhost:8080/cb"],
        allowed_scopes=frozenset({"cards:read", "accounts:read"}),
        now=NOW,
    )


async def test_a_registered_client_reads_back_exactly(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as s:
        made = await _register(s)
    async with sessions() as s:
        found = await clients.by_client_id(s, "app_one")
        by_pk = await clients.by_ids(s, {made.id, made.id + 100})
        assert await clients.by_client_id(s, "app_two") is None
        assert await clients.by_ids(s, set()) == {}
    assert found == made and list(by_pk) == [made.id]
    assert found is not None
    assert found.redirect_uris == ("https://one.example/cb", "http://localhost:8080/cb")
    assert found.allowed_scopes == {"accounts:read", "cards:read"}
    assert found.secret_hash == "scrypt$hash" and "scrypt" not in repr(found)
    assert found.has_redirect_uri("https://one.example/cb")
    assert not found.has_redirect_uri("https://one.example/cb/")


async def test_a_client_id_is_registered_once(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions.begin() as s:
        await _register(s)
    with pytest.raises(IntegrityError):
        async with sessions.begin() as s:
            await _register(s)


async def test_a_customer_is_found_by_phone_with_their_accounts(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as s:
        _conn, account = await connected_account(s)
    async with sessions() as s:
        user = await customers.id_by_phone(s, "+992900000001")
        assert user is not None
        assert await customers.id_by_phone(s, "+992900000002") is None
        accounts = await customers.accounts_of(s, user)
        assert await customers.accounts_of(s, user + 1) == []
    assert accounts == [customers.CustomerAccount(account, "Wallet", "••••8601", "TJS")]
