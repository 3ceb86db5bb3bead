"""The operator's first hour, as an operator meets it: `alif-graph` run as a process from an
empty directory with nothing but the given ALIF_GRAPH_* settings. Every ordinary mistake is
a line naming the problem and a documented nonzero exit code (graph/cli/errors.py), never
a traceback."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from graph.cli.errors import ExitCode
from ledger.db import create_engine

_BIN = Path(sys.executable).with_name("alif-graph")
_PG = os.environ.get(
    "ALIF_GRAPH_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
CONNECT = ["connect", "obp", "--username", "u", "--password", "p", "--consumer-key", "k"]


def alif_graph(cwd: Path, *args: str, **settings: str) -> subprocess.CompletedProcess[str]:
    """The installed command in `cwd`, in a fresh environment: PATH, HOME and `settings`
    (as ALIF_GRAPH_<NAME>) only, so no developer's .env or variable leaks in."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(cwd)}
    env |= {f"ALIF_GRAPH_{name.upper()}": value for name, value in settings.items()}
    command = [str(_BIN)] if _BIN.exists() else [sys.executable, "-m", "graph.cli.main"]
    return subprocess.run(  # noqa: S603 - our own command, fixed arguments
        [*command, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def refused(result: subprocess.CompletedProcess[str], code: ExitCode, *naming: str) -> str:
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    assert result.returncode == code, output
    lines = [line for line in output.splitlines() if line.strip()]
    assert 1 <= len(lines) <= 2, output
    for words in naming:
        assert words in output, output
    return output


def _postgres_server() -> bool:
    import socket

    url = make_url(_PG)
    try:
        with socket.create_connection((url.host or "127.0.0.1", url.port or 5432), timeout=0.5):
            return True
    except OSError:
        return False


needs_postgres = pytest.mark.skipif(not _postgres_server(), reason="no PostgreSQL server")


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return tmp_path


@pytest.mark.parametrize(
    ("database_url", "code", "naming"),
    [
        ("not-a-url", ExitCode.CONFIGURATION, ["ALIF_GRAPH_DATABASE_URL", "not a database URL"]),
        ("mysql://u@db/x", ExitCode.CONFIGURATION, ["unsupported database 'mysql'"]),
        ("postgresql+psycopg2://u@db/x", ExitCode.CONFIGURATION, ["driver 'psycopg2'"]),
        # Nothing listens on port 1: refused at once.
        ("postgresql://nobody@127.0.0.1:1/x", ExitCode.DATABASE, ["cannot use the database"]),
        ("postgres://nobody@no-such-host.invalid/x", ExitCode.DATABASE, ["cannot use the"]),
        ("sqlite:////no/such/dir/x.db", ExitCode.CONFIGURATION, ["no directory /no/such/dir"]),
    ],
)
def test_a_bad_or_unreachable_database_url_is_one_line(
    workdir: Path, database_url: str, code: ExitCode, naming: list[str]
):
    result = alif_graph(workdir, "sync", "--all", database_url=database_url)

    refused(result, code, *naming, "error:")


@needs_postgres
def test_a_missing_postgres_database_is_named(workdir: Path):
    missing = f"alif_graph_missing_{uuid.uuid4().hex[:8]}"
    url = make_url(_PG).set(drivername="postgres", database=missing)

    result = alif_graph(
        workdir, "sync", "--all", database_url=url.render_as_string(hide_password=False)
    )

    refused(result, ExitCode.DATABASE, f'database "{missing}" does not exist')


@pytest.fixture
def postgres_schema() -> Iterator[str]:
    """A `postgres://` URL (as hosting providers write it) to a fresh empty schema."""
    import asyncio

    schema = f"t_{uuid.uuid4().hex[:16]}"

    async def run(sql: str) -> None:
        admin = create_engine(_PG)
        try:
            async with admin.begin() as conn:
                await conn.execute(text(sql))
        finally:
            await admin.dispose()

    asyncio.run(run(f'CREATE SCHEMA "{schema}"'))
    url = make_url(_PG).set(drivername="postgres").update_query_dict({"search_path": schema})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        asyncio.run(run(f'DROP SCHEMA "{schema}" CASCADE'))


@needs_postgres
def test_postgres_urls_are_postgresql_and_an_empty_one_must_be_upgraded(
    workdir: Path, postgres_schema: str
):
    # Development, but PostgreSQL: migrated by its owner, never on first use.
    refused(
        alif_graph(workdir, "sync", "--all", database_url=postgres_schema),
        ExitCode.DATABASE,
        "the database has no tables yet",
        "run `alif-graph db upgrade`",
    )

    upgraded = alif_graph(workdir, "db", "upgrade", database_url=postgres_schema)
    assert upgraded.returncode == 0, upgraded.stdout + upgraded.stderr

    synced = alif_graph(workdir, "sync", "--all", database_url=postgres_schema)
    assert synced.returncode == 0, synced.stdout + synced.stderr


def test_development_sqlite_is_migrated_on_first_use(workdir: Path):
    result = alif_graph(workdir, "sync", "--connection", "7")

    output = refused(result, ExitCode.FAILED, "no connection 7")
    assert "migrated" in output
    tables = sqlite3.connect(workdir / "alif-graph.db").execute(
        "SELECT count(*) FROM sqlite_master WHERE name = 'alembic_version'"
    )
    assert tables.fetchone() == (1,)


@pytest.mark.parametrize("command", [["sync", "--all"], ["serve", "--port", "0"]])
def test_production_without_a_secret_is_one_line(workdir: Path, command: list[str]):
    result = alif_graph(workdir, *command, env="production")

    refused(result, ExitCode.CONFIGURATION, "ALIF_GRAPH_SECRET_KEY must be set in production")


@pytest.mark.parametrize("command", [["sync", "--all"], ["serve", "--port", "0"]])
def test_production_refuses_a_database_without_tables(workdir: Path, command: list[str]):
    result = alif_graph(workdir, *command, env="production", secret_key="k" * 40)

    refused(result, ExitCode.DATABASE, "no tables yet", "alif-graph db upgrade")
    assert not (workdir / "alif-graph.db").exists() or _tables(workdir) == 0


def _tables(workdir: Path) -> int:
    db = sqlite3.connect(workdir / "alif-graph.db")
    return int(db.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0])


def test_a_command_that_does_not_migrate_names_the_upgrade(workdir: Path):
    result = alif_graph(workdir, "audit")  # reads the audit trail of a database never made

    refused(result, ExitCode.DATABASE, "lacks the ledger's tables", "alif-graph db upgrade")


def test_a_bad_setting_names_its_variable(workdir: Path):
    result = alif_graph(workdir, "sync", "--all", env="staging")

    refused(result, ExitCode.CONFIGURATION, "ALIF_GRAPH_ENV")


def test_an_unknown_connection_is_one_line(workdir: Path):
    assert alif_graph(workdir, "db", "upgrade").returncode == 0

    result = alif_graph(workdir, "sync", "--connection", "42")

    refused(result, ExitCode.FAILED, "no connection 42")


@pytest.mark.parametrize(
    ("args", "naming"),
    [
        (["--base-url", "not-a-url"], ["--base-url 'not-a-url'", "not an http(s) base URL"]),
        (["--base-url", "bank.example:8080"], ["not an http(s) base URL"]),
        (["--base-url", "ftp://bank.example"], ["not an http(s) base URL"]),
        (["--base-url", "http://b", "--phone", "12345"], ["--phone '12345'", "not a valid"]),
        (["--base-url", "http://b", "--phone", "+99290"], ["--phone '+99290'"]),
    ],
)
def test_connect_refuses_what_cannot_be_a_bank_or_a_phone(
    workdir: Path, args: list[str], naming: list[str]
):
    result = alif_graph(workdir, *CONNECT, *args)

    refused(result, ExitCode.USAGE, *naming)
    assert not (workdir / "alif-graph.db").exists()  # checked before anything is opened


def test_connect_with_an_unreachable_database_is_one_line(workdir: Path):
    url = "postgresql://nobody@127.0.0.1:1/x"
    result = alif_graph(workdir, *CONNECT, "--base-url", "http://b", database_url=url)

    refused(result, ExitCode.DATABASE, "cannot use the database")


def test_connect_to_a_bank_that_does_not_answer_stores_nothing(workdir: Path):
    assert alif_graph(workdir, "db", "upgrade").returncode == 0

    result = alif_graph(workdir, *CONNECT, "--base-url", "http://127.0.0.1:1")

    refused(result, ExitCode.FAILED, "the bank at http://127.0.0.1:1", "Nothing was stored")
    db = sqlite3.connect(workdir / "alif-graph.db")
    assert db.execute("SELECT count(*) FROM connection").fetchone() == (0,)
    assert db.execute("SELECT count(*) FROM customer").fetchone() == (0,)


def test_several_workers_without_redis_are_refused(workdir: Path):
    result = alif_graph(workdir, "serve", "--workers", "2")

    refused(result, ExitCode.CONFIGURATION, "--workers 2 needs ALIF_GRAPH_REDIS_URL")


def test_debug_shows_the_full_trace(workdir: Path):
    result = alif_graph(workdir, "--debug", "sync", "--all", database_url="mysql://u@db/x")

    assert result.returncode != 0
    assert "Traceback" in result.stderr and "unsupported database" in result.stderr
