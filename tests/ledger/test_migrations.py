"""The Alembic migrations produce exactly the schema the models describe."""

import ast
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError, IntegrityError

import ledger.migrations
from ledger.db import create_engine
from ledger.migrate import downgrade_connection, upgrade_connection
from ledger.models import metadata

PROJECT = {"ledger", "connectors", "graph", "bench"}


async def test_migrated_schema_equals_metadata(db_url: str) -> None:
    engine = create_engine(db_url)
    async with engine.begin() as conn:
        await conn.run_sync(upgrade_connection)
        diff = await conn.run_sync(
            lambda c: compare_metadata(
                MigrationContext.configure(c, opts={"compare_type": True}), metadata
            )
        )
        tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    await engine.dispose()
    assert diff == []
    assert set(metadata.tables) <= tables


def test_frozen_migrations_import_no_project_code() -> None:
    """A migration describes the schema of its day: importing live code would let a later
    change of that code rewrite history."""
    versions = Path(ledger.migrations.__file__).parent / "versions"
    for path in sorted(versions.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            for name in names:
                assert name.split(".")[0] not in PROJECT, f"{path.name} imports {name}"


async def test_migrated_audit_trail_is_append_only(db_url: str) -> None:
    engine = create_engine(db_url)
    async with engine.begin() as conn:
        await conn.run_sync(upgrade_connection)
        await conn.execute(
            text(
                "INSERT INTO audit_event (at, operation, scopes, object_count, object_ids, "
                "outcome, request_id) VALUES (CURRENT_TIMESTAMP, 'query', '', 0, '', 'ok', 'r1')"
            )
        )
    for statement in ("UPDATE audit_event SET outcome = 'denied'", "DELETE FROM audit_event"):
        with pytest.raises(DBAPIError, match="append-only"):
            async with engine.begin() as conn:
                await conn.execute(text(statement))
    await engine.dispose()


BEFORE_HISTORY = "4ea24c1f0616"  # the revision before per-account transaction identity


async def _seed_before_history(conn: Any, accounts: int) -> None:
    """Rows as the schema of BEFORE_HISTORY holds them: one connection, `accounts` accounts,
    one booked transaction each, all with distinct upstream ids (the old key)."""
    await conn.execute(
        text(
            "INSERT INTO institution (code, name, country, created_at) "
            "VALUES ('obp', 'OBP', 'TJ', CURRENT_TIMESTAMP)"
        ),
    )
    await conn.execute(
        text(
            "INSERT INTO customer (phone, locale, created_at) "
            "VALUES ('+992900000009', 'ru', CURRENT_TIMESTAMP)"
        ),
    )
    await conn.execute(
        text(
            "INSERT INTO connection (user_id, institution_id, provider, base_url, bank_id, "
            "credentials_encrypted, status, created_at, updated_at) VALUES "
            "(1, 1, 'obp', 'http://bank', 'b', :creds, 'ACTIVE', "
            "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
        ),
        {"creds": b"x"},
    )
    for n in range(1, accounts + 1):
        values = {"n": n, "ext": f"acc-{n}", "tx": f"tx-{n}", "amount": -n * 100}
        await conn.execute(
            text(
                "INSERT INTO account (connection_id, external_id, institution_id, user_id, type, "
                "name, number_masked, currency, payload_hash, created_at, updated_at) VALUES "
                "(1, :ext, 1, 1, 'CURRENT', :ext, '••••', 'TJS', '-', "
                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            ),
            values,
        )
        await conn.execute(
            text(
                "INSERT INTO ledger_transaction (connection_id, external_id, account_id, status, "
                "booking_date, amount_minor, currency, type, payload_hash, created_at, "
                "updated_at) VALUES (1, :tx, :n, 'BOOKED', '2026-10-01', :amount, 'TJS', "
                "'CARD_PAYMENT', :tx, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            ),
            values,
        )


async def test_history_migration_keeps_rows_and_keys_transactions_per_account(
    db_url: str,
) -> None:
    engine = create_engine(db_url)
    async with engine.begin() as conn:
        await conn.run_sync(lambda c: upgrade_connection(c, BEFORE_HISTORY))
        await _seed_before_history(conn, accounts=3)
        await conn.run_sync(upgrade_connection)
        kept = (
            await conn.execute(
                text(
                    "SELECT external_id, account_id, amount_minor, removed_at "
                    "FROM ledger_transaction ORDER BY id"
                )
            )
        ).all()
        assert [tuple(r) for r in kept] == [(f"tx-{n}", n, -n * 100, None) for n in (1, 2, 3)]
        # Both legs of an own-account transfer carry one id: now one row per account.
        await conn.execute(
            text(
                "INSERT INTO ledger_transaction (connection_id, external_id, account_id, status, "
                "booking_date, amount_minor, currency, type, payload_hash, created_at, "
                "updated_at) VALUES (1, 'tx-1', 2, 'BOOKED', '2026-10-01', 100, 'TJS', "
                "'TRANSFER', 'h', '2026-11-01 00:00:00', '2026-11-01 00:00:00')"
            )
        )
    with pytest.raises(IntegrityError):
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO ledger_transaction (connection_id, external_id, account_id, "
                    "status, booking_date, amount_minor, currency, type, payload_hash, "
                    "created_at, updated_at) VALUES (1, 'tx-1', 1, 'BOOKED', '2026-10-01', 1, "
                    "'TJS', 'X', 'h', '2026-11-01 00:00:00', '2026-11-01 00:00:00')"
                )
            )
    await engine.dispose()


async def test_history_migration_downgrades_to_the_old_key(db_url: str) -> None:
    engine = create_engine(db_url)
    async with engine.begin() as conn:
        await conn.run_sync(lambda c: upgrade_connection(c, BEFORE_HISTORY))
        await _seed_before_history(conn, accounts=2)
        await conn.run_sync(upgrade_connection)
        await conn.run_sync(lambda c: downgrade_connection(c, BEFORE_HISTORY))
        tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
        kept = (await conn.execute(text("SELECT count(*) FROM ledger_transaction"))).scalar()
    assert "transaction_revision" not in tables and "account_reconciliation" not in tables
    assert kept == 2
    with pytest.raises(IntegrityError):  # the old key is back: one id per connection
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO ledger_transaction (connection_id, external_id, account_id, "
                    "status, booking_date, amount_minor, currency, type, payload_hash, "
                    "created_at, updated_at) VALUES (1, 'tx-1', 2, 'BOOKED', '2026-10-01', 1, "
                    "'TJS', 'X', 'h', '2026-11-01 00:00:00', '2026-11-01 00:00:00')"
                )
            )
    await engine.dispose()


async def test_migrated_revisions_are_append_only(db_url: str) -> None:
    engine = create_engine(db_url)
    async with engine.begin() as conn:
        await conn.run_sync(lambda c: upgrade_connection(c, BEFORE_HISTORY))
        await _seed_before_history(conn, accounts=1)
        await conn.run_sync(upgrade_connection)
        await conn.execute(
            text(
                "INSERT INTO transaction_revision (transaction_id, kind, recorded_at, status, "
                "account_id, booking_date, amount_minor, currency, payload_hash) VALUES "
                "(1, 'REMOVED', CURRENT_TIMESTAMP, 'BOOKED', 1, '2026-10-01', -100, 'TJS', 'h1')"
            )
        )
    for statement in (
        "UPDATE transaction_revision SET amount_minor = 0",
        "DELETE FROM transaction_revision",
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            async with engine.begin() as conn:
                await conn.execute(text(statement))
    await engine.dispose()
