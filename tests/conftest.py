"""Shared fixtures: every database test runs on SQLite and on PostgreSQL.

`db_url` is parametrized over both backends. PostgreSQL comes from
ALIF_GRAPH_TEST_POSTGRES_URL, else from a server answering on 127.0.0.1:5432; when neither
is there the PostgreSQL half is skipped, except under CI=true, where that is a failure.
Each test gets a clean schema: a fresh SQLite file, or a fresh PostgreSQL schema.
Under pytest-xdist (`make test`) each worker counts its own and the controller sums them.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from ledger.db import create_engine, session_factory
from ledger.migrate import stamp_head
from ledger.models import metadata

_DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
_ran: dict[str, int] = {"sqlite": 0, "postgresql": 0}


def _postgres_url() -> str | None:
    url = os.environ.get("ALIF_GRAPH_TEST_POSTGRES_URL")
    if url:
        return url
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=0.5):
            return _DEFAULT_PG
    except OSError:
        return None


_PG_URL = _postgres_url()


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> Iterator[str]:
    name: str = request.param
    if name == "postgresql" and _PG_URL is None:
        if _in_ci():
            pytest.fail("PostgreSQL is required under CI=true but none is reachable")
        pytest.skip("no PostgreSQL: set ALIF_GRAPH_TEST_POSTGRES_URL or start one on :5432")
    yield name
    if getattr(request.node, "rep_call_passed", False):
        _ran[name] += 1


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    report = yield
    if report.when == "call":
        item.rep_call_passed = report.passed
    return report


@pytest.fixture
async def db_url(backend: str, tmp_path: Path) -> AsyncIterator[str]:
    """A URL to an empty database of the given backend, private to this test."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'ledger.db'}"
        return
    assert _PG_URL is not None
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(_PG_URL)
    async with admin.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    # The schema travels in the URL's query so code under test can build its own engines.
    url = make_url(_PG_URL).update_query_dict({"search_path": schema})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        async with admin.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine over a clean database with the ledger tables created from the metadata,
    recorded as at the latest migration (what `serve`, `sync` and /readyz ask)."""
    eng = create_engine(db_url)
    async with eng.begin() as conn:
        await conn.run_sync(metadata.create_all)
        await conn.run_sync(stamp_head)
    yield eng
    await eng.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return session_factory(engine)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    # Under pytest-xdist the tests run in workers: each reports its counts when it ends.
    for name, count in node.workeroutput.get("database_tests_passed", {}).items():
        _ran[name] += count


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    terminalreporter.write_line(
        f"database tests passed: sqlite={_ran['sqlite']} postgresql={_ran['postgresql']}"
    )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if hasattr(session.config, "workeroutput"):  # an xdist worker: the controller sums
        session.config.workeroutput["database_tests_passed"] = dict(_ran)
        return
    # Under CI a suite whose PostgreSQL half never ran has not tested what production runs.
    if _in_ci() and _ran["sqlite"] > 0 and _ran["postgresql"] == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
