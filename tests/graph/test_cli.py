"""`alif-graph schema`, `token`, `sync` and `enrich run`: answers, and one-line refusals."""

from __future__ import annotations

import asyncio
import threading

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from typer.testing import CliRunner

from connectors.factory import institution_of
from graph.cli.main import app
from graph.cli.sync import REFUSED
from graph.schema import build_schema
from graph.settings import Settings, get_settings
from ledger import connections
from ledger.models import Connection, Consent, Transaction, table

from .helpers import SECRET, claims_of
from .ledger_data import PHONE_A, LedgerData

runner = CliRunner()


async def invoke(*args: str):
    """The CLI runs its own event loop, so it runs in a thread beside the test's loop."""
    return await asyncio.to_thread(runner.invoke, app, list(args))


def test_schema_prints_the_sdl():
    result = runner.invoke(app, ["schema"])

    assert result.exit_code == 0
    assert result.stdout == build_schema(Settings()).as_str() + "\n"


async def test_token_records_a_consent_and_prints_only_the_token(
    env: None, ledger: LedgerData, sessions: async_sessionmaker[AsyncSession]
):
    result = await invoke(
        "token", "--phone", PHONE_A, "--scopes", "accounts:read,balances:read",
        "--accounts", str(ledger.wallet.id), "--ttl", "3600",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    claims = claims_of(result.stdout.strip())
    assert claims["sub"] == str(ledger.user_a)
    assert claims["scope"] == "accounts:read balances:read"
    assert claims["exp"] - claims["iat"] == 3600
    async with sessions() as session:
        consent = (
            await session.execute(
                select(table(Consent)).where(table(Consent).c.id == claims["cid"])
            )
        ).one()
    assert consent.status == "AUTHORISED"
    assert consent.client_id is None
    assert consent.account_ids == str(ledger.wallet.id)


async def test_token_refuses_another_customers_account(env: None, ledger: LedgerData):
    result = await invoke("token", "--phone", PHONE_A, "--accounts", str(ledger.foreign.id))

    assert result.exit_code == 2
    assert "not accounts of" in result.stderr


async def test_token_refuses_unknown_scopes(env: None, ledger: LedgerData):
    result = await invoke("token", "--phone", PHONE_A, "--scopes", "everything:write")

    assert result.exit_code == 2
    assert "unknown scope" in result.stderr


def test_token_is_refused_in_production(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("ALIF_GRAPH_ENV", "production")
    monkeypatch.setenv("ALIF_GRAPH_SECRET_KEY", SECRET)
    get_settings.cache_clear()
    try:
        result = runner.invoke(app, ["token", "--phone", PHONE_A])
    finally:
        get_settings.cache_clear()

    assert result.exit_code == 2
    assert "refused in production" in result.stderr


@pytest.mark.parametrize("missing", [1, 999, 2**31 - 1])
async def test_sync_of_an_unknown_connection_is_one_line(env: None, missing: int):
    result = await invoke("db", "upgrade")
    assert result.exit_code == 0

    result = await invoke("sync", "--connection", str(missing))

    assert result.exit_code == 1
    assert result.output.strip() == f"error: no connection {missing}"


@pytest.mark.parametrize("bad", ["0", "-3", str(2**40), "x"])
async def test_sync_refuses_an_impossible_connection_id_as_usage(env: None, bad: str):
    result = await invoke("sync", "--connection", bad)

    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "--connection" in result.output


def _sqlite_workers() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if "_connection_worker_thread" in t.name}


def _left_running(before: set[threading.Thread]) -> set[threading.Thread]:
    """The SQLite worker threads started since `before` that do not end: a closed
    connection's thread ends a moment after the close (later on a busy machine), an open
    one's never."""
    for thread in _sqlite_workers() - before:
        thread.join(timeout=5)
    return _sqlite_workers() - before


async def test_db_revision_of_a_database_behind_head_is_one_line(env: None):
    before = _sqlite_workers()

    result = await invoke("db", "revision", "-m", "probe")

    assert result.exit_code == 1
    assert result.output.strip() == "error: Target database is not up to date."
    # The failed command closed its connections: one left open calls back into the
    # command's closed event loop later, printing a traceback into whatever runs then.
    assert not _left_running(before)


async def test_sync_all_skips_a_connection_the_bank_refused_with_a_hint(
    env: None, sessions: async_sessionmaker[AsyncSession]
):
    async with sessions.begin() as s:
        ids = [
            await connections.link_customer(
                s,
                phone=phone,
                institution=institution_of("obp", "alif.tj"),
                provider="obp",
                # Nothing listens here: a sync that tried would fail, not skip.
                base_url="http://127.0.0.1:9",
                bank_id="alif.tj",
                credentials_encrypted=b"-",
            )
            for phone in (PHONE_A, "+992900000077")
        ]
        await s.execute(
            update(table(Connection)).where(table(Connection).c.id.in_(ids)).values(status=REFUSED)
        )

    result = await invoke("sync", "--all")

    assert result.exit_code == 0, result.output
    lines = " ".join(result.output.split())
    for connection_id in ids:
        assert f"connection {connection_id} skipped: the bank refused its login" in lines
    assert lines.count("re-link it") == 2 and "Traceback" not in result.output


async def test_connect_with_direct_login_is_refused_in_production(
    env: None, monkeypatch: pytest.MonkeyPatch, sessions: object
):
    monkeypatch.setenv("ALIF_GRAPH_ENV", "production")
    get_settings.cache_clear()
    args = ["connect", "alif", "--base-url", "http://sandbox", "--username", "u"]
    result = await invoke(*args, "--password", "p", "--consumer-key", "k")

    assert result.exit_code == 1
    assert result.stdout.strip() == (
        "error: alif-graph connect: DirectLogin (a bank username and password) is for "
        "development and tests only, refused in production; link the bank through the "
        "customer's consent"
    )
    assert "Traceback" not in result.output


async def test_revoke_pending_with_nothing_pending(env: None):
    assert (await invoke("db", "upgrade")).exit_code == 0

    result = await invoke("revoke-pending")

    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "no bank revocation pending"


async def test_enrich_run_fills_what_sync_did_not_write_and_then_has_nothing_to_do(
    env: None, ledger: LedgerData, sessions: async_sessionmaker[AsyncSession]
):
    tx = table(Transaction)
    async with sessions() as session:
        stored = (
            await session.execute(
                select(tx.c.id).where(tx.c.connection_id == ledger.wallet.connection_id)
            )
        ).all()

    first = await invoke("enrich", "run", "--connection", str(ledger.wallet.connection_id))
    again = await invoke("enrich", "run", "--connection", str(ledger.wallet.connection_id))
    full = await invoke("enrich", "run", "--full")

    assert (first.exit_code, first.output.strip()) == (0, f"enriched {len(stored)} transactions")
    assert (again.exit_code, again.output.strip()) == (0, "enriched 0 transactions")
    async with sessions() as session:
        every = (await session.execute(select(func.count()).select_from(tx))).scalar_one()
    assert full.output.strip() == f"enriched {every} transactions"
    missing = await invoke("enrich", "run", "--connection", "987654")
    assert (missing.exit_code, missing.output.strip()) == (1, "error: no connection 987654")
