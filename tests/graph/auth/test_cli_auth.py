"""`alif-graph client create`, `audit` and `retention run`."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from graph.cli.main import app
from graph.settings import get_settings

runner = CliRunner()


@pytest.fixture
def cli_db(db_url: str, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("ALIF_GRAPH_DATABASE_URL", db_url)
    get_settings.cache_clear()
    yield db_url
    get_settings.cache_clear()


def test_client_create_prints_the_credentials_once(cli_db: str) -> None:
    result = runner.invoke(
        app,
        [
            "client", "create", "--name", "Ledger Sync",
            "--redirect-uri", "https://ledger.example/cb",
            "--redirect-uri", "http://127.0.0.1:9000/cb",
            "--scopes", "accounts:read,transactions:read",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert re.search(r"client_id\s+app_[0-9a-f]{24}", result.output)
    assert re.search(r"client_secret\s+\S{40,}", result.output)
    assert "accounts:read transactions:read" in result.output


@pytest.mark.parametrize(
    "args",
    [
        ["--redirect-uri", "http://ledger.example/cb"],
        ["--redirect-uri", "https://ledger.example/cb", "--scopes", "money:write"],
    ],
)
def test_client_create_refuses_bad_input(cli_db: str, args: list[str]) -> None:
    result = runner.invoke(app, ["client", "create", "--name", "X", *args])
    assert result.exit_code == 2
    assert "client_secret" not in result.output


def test_audit_and_retention_run(cli_db: str) -> None:
    result = runner.invoke(app, ["audit", "--consent", "1", "--from", "2025-01-01"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["retention", "run", "--window-days", "0"])
    assert result.exit_code == 0, result.output
    assert "0 customer(s) purged" in result.output
