"""The Alembic migrations produce exactly the schema the models describe."""

import ast
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

import ledger.migrations
from ledger.db import create_engine
from ledger.migrate import upgrade_connection
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
