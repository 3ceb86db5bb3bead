"""The application's PostgreSQL role: it writes the ledger, and cannot erase the audit trail
or the booked history (`ledger.roles`, docs/database.md).

Each PostgreSQL test creates its own owner and application roles (cluster-wide, so named
per test and dropped after it), gives the owner the test's schema, migrates as the owner
and connects as the application.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from graph.cli.main import app as cli
from graph.settings import Settings, get_settings
from ledger import audit, migrate
from ledger.db import create_engine, session_factory
from ledger.models import Account, AuditEvent, table
from ledger.revisions import revisions_of, write_transactions
from ledger.roles import Grants, RoleError, refuse_erasing_role

from .factories import connected_account

APPEND_ONLY = ("audit_event", "transaction_revision")
ERASING = (
    "UPDATE {table} SET id = id",
    "DELETE FROM {table}",
    "TRUNCATE {table}",
    "TRUNCATE {table} CASCADE",
)
BEFORE_REVISIONS = "4ea24c1f0616"  # the revision before transaction_revision was added
T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
WRITE: dict[str, Any] = {"run_id": None, "links": (), "now": T0}
only_postgres = pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
runner = CliRunner()


@dataclass(frozen=True)
class Roles:
    owner: str
    app: str
    owner_url: str
    app_url: str
    admin_url: str


def _as(url: str, user: str) -> str:
    return make_url(url).set(username=user).render_as_string(hide_password=False)


@pytest.fixture
async def roles(db_url: str) -> AsyncIterator[Roles]:
    """An owner role holding the test's schema and an application role with nothing yet."""
    suffix = uuid.uuid4().hex[:12]
    owner, app = f"alif_owner_{suffix}", f"alif_app_{suffix}"
    schema = make_url(db_url).query["search_path"]
    admin = create_engine(db_url)
    async with admin.begin() as conn:
        await conn.execute(text(f'CREATE ROLE "{owner}" LOGIN'))
        await conn.execute(text(f'CREATE ROLE "{app}" LOGIN'))
        await conn.execute(text(f'ALTER SCHEMA "{schema}" OWNER TO "{owner}"'))
    try:
        yield Roles(owner, app, _as(db_url, owner), _as(db_url, app), db_url)
    finally:
        async with admin.begin() as conn:
            # The schema goes back to the superuser, which drops it after the test.
            await conn.execute(text(f'REASSIGN OWNED BY "{owner}" TO CURRENT_USER'))
            await conn.execute(text(f'DROP OWNED BY "{owner}", "{app}"'))
            await conn.execute(text(f'DROP ROLE "{owner}", "{app}"'))
        await admin.dispose()


@pytest.fixture
def env(roles: Roles, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The deployment of docs/database.md: the app's URL, and the owner's for migrations."""
    monkeypatch.setenv("ALIF_GRAPH_DATABASE_URL", roles.app_url)
    monkeypatch.setenv("ALIF_GRAPH_DATABASE_OWNER_URL", roles.owner_url)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


async def invoke(*args: str):
    """The CLI runs its own event loop, so it runs in a thread beside the test's loop."""
    return await asyncio.to_thread(runner.invoke, cli, list(args))


async def _migrate_and_grant(roles: Roles, revision: str = "head") -> Grants:
    await asyncio.to_thread(migrate.upgrade, roles.owner_url, revision)
    return await asyncio.to_thread(migrate.grant_app_role, roles.owner_url, roles.app)


def _row(conn: int, account: int, amount: int) -> dict[str, object]:
    return {
        "connection_id": conn,
        "external_id": "tx-1",
        "account_id": account,
        "status": "BOOKED",
        "booking_date": date(2026, 10, 1),
        "booked_at": datetime(2026, 10, 1, 9, tzinfo=UTC),
        "amount_minor": amount,
        "currency": "TJS",
        "balance_after_minor": None,
        "type": "CARD_PAYMENT",
        "description": "purchase",
        "counterparty_name": "Shop",
        "counterparty_account": None,
        "card_id": None,
    }


async def _refused(engine: AsyncEngine, statement: str) -> str:
    with pytest.raises(DBAPIError) as refusal:
        async with engine.begin() as conn:
            await conn.execute(text(statement))
    return str(refusal.value.orig)


async def _seed_history(engine: AsyncEngine) -> int:
    """As the sync writes: a customer's account, a booked row, then the bank changing it
    (which records a revision). Returns the transaction's id."""
    sessions = session_factory(engine)
    async with sessions.begin() as s:
        conn, account = await connected_account(s)
        await write_transactions(s, [_row(conn, account, -1_000)], **WRITE)
    async with sessions.begin() as s:
        written = await write_transactions(s, [_row(conn, account, -1_200)], **WRITE)
    (revision,) = written.revisions
    return revision.transaction_id


@only_postgres
async def test_the_app_role_writes_the_ledger_but_cannot_erase_append_only_tables(
    roles: Roles,
) -> None:
    grants = await _migrate_and_grant(roles)
    assert grants.append_only == APPEND_ONLY  # found by their triggers
    app = create_engine(roles.app_url)
    transaction_id = await _seed_history(app)
    sessions = session_factory(app)
    async with sessions.begin() as s:
        accounts = table(Account)
        await s.execute(update(accounts).values(name="Main wallet"))
        await audit.record(s, audit.AuditRecord("query", "ok", "req-1"), at=T0)
    async with sessions() as s:
        assert len((await revisions_of(s, [transaction_id]))[transaction_id]) == 1
        assert (await s.execute(select(table(AuditEvent).c.request_id))).scalars().all() == [
            "req-1"
        ]

    for name in APPEND_ONLY:
        for statement in ERASING:
            assert "permission denied" in await _refused(app, statement.format(table=name))
    async with sessions() as s:
        assert await s.scalar(text("SELECT count(*) FROM audit_event")) == 1
        assert await s.scalar(text("SELECT count(*) FROM transaction_revision")) == 1
    await app.dispose()


@only_postgres
async def test_upgrade_grants_the_tables_a_later_migration_adds(roles: Roles, env: None) -> None:
    await _migrate_and_grant(roles, BEFORE_REVISIONS)
    app = create_engine(roles.app_url)
    assert "does not exist" in await _refused(app, "SELECT 1 FROM transaction_revision")

    result = await invoke("db", "upgrade")

    assert result.exit_code == 0, result.output
    assert f"role {roles.app}" in result.output
    async with app.connect() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM transaction_revision")) == 0
    assert "permission denied" in await _refused(app, "TRUNCATE transaction_revision")
    # The owner migrated: the application owns nothing.
    async with app.connect() as conn:
        owners = await conn.scalars(
            text("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = current_schema()")
        )
        assert owners.all() == [roles.owner]
    await app.dispose()


@only_postgres
async def test_granting_again_takes_back_what_was_granted_by_hand(roles: Roles, env: None) -> None:
    await _migrate_and_grant(roles)
    admin = create_engine(roles.admin_url)
    async with admin.begin() as conn:
        await conn.execute(text(f'GRANT ALL ON audit_event TO "{roles.app}"'))
    await admin.dispose()

    result = await invoke("db", "grant")

    assert result.exit_code == 0, result.output
    app = create_engine(roles.app_url)
    assert "permission denied" in await _refused(app, "TRUNCATE audit_event")
    await app.dispose()


@only_postgres
async def test_grants_refuse_a_role_that_could_erase_the_audit(roles: Roles) -> None:
    await asyncio.to_thread(migrate.upgrade, roles.owner_url)
    superuser = make_url(roles.admin_url).username
    assert superuser is not None
    refusals = {
        superuser: "is a superuser",
        roles.owner: "is the owner",
        "alif_nobody": "no role 'alif_nobody'",
    }
    for role, reason in refusals.items():
        with pytest.raises(RoleError, match=reason):
            await asyncio.to_thread(migrate.grant_app_role, roles.owner_url, role)
    # Refused before anything was revoked: the owner still reads its tables.
    owner = create_engine(roles.owner_url)
    async with owner.begin() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM audit_event")) == 0
        # A privilege reaching the role through PUBLIC is one it holds too.
        await conn.execute(text("GRANT TRUNCATE ON audit_event TO PUBLIC"))
    await owner.dispose()
    with pytest.raises(RoleError, match="can still TRUNCATE audit_event"):
        await asyncio.to_thread(migrate.grant_app_role, roles.owner_url, roles.app)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_grant_on_sqlite_is_one_line(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALIF_GRAPH_DATABASE_URL", db_url)
    get_settings.cache_clear()
    try:
        result = await invoke("db", "grant", "--app-role", "alif_app")
    finally:
        get_settings.cache_clear()

    assert result.exit_code == 1
    assert result.output.strip() == (
        "error: only PostgreSQL has roles; SQLite's triggers keep the audit append-only"
    )


@pytest.mark.parametrize(
    ("app", "owner", "refusal"),
    [
        ("sqlite+aiosqlite:///a.db", "postgresql+asyncpg://o@h/db", "is for PostgreSQL"),
        ("postgresql+asyncpg://a@h/db", "postgresql+asyncpg://o@h/other", "must name the"),
        ("postgresql+asyncpg://a@h/db?search_path=s", "postgresql+asyncpg://o@h/db", "must name"),
        ("postgresql+asyncpg://a@h:5433/db", "postgresql+asyncpg://o@h/db", "must name"),
    ],
)
def test_the_owner_url_names_the_applications_database(app: str, owner: str, refusal: str):
    with pytest.raises(ValueError, match=f"database_owner_url {refusal}"):
        Settings(database_url=app, database_owner_url=owner)


def test_the_app_role_is_the_application_urls_user():
    same = "postgresql+asyncpg://alif_owner@h/db"
    split = Settings(database_url="postgresql+asyncpg://alif_app@h/db", database_owner_url=same)
    assert split.app_role == "alif_app"
    assert split.migration_url == same
    # Migrating with the application's own URL grants nothing: there is one role.
    assert Settings(database_url=same, database_owner_url=same).app_role is None
    assert Settings(database_url=same).app_role is None


# -- the startup check: the API and the sync refuse a role that could erase the audit -----


def _production(monkeypatch: pytest.MonkeyPatch, url: str) -> list[object]:
    """Production settings connecting to `url`; the list records every uvicorn start."""
    monkeypatch.setenv("ALIF_GRAPH_ENV", "production")
    monkeypatch.setenv("ALIF_GRAPH_DATABASE_URL", url)
    monkeypatch.setenv("ALIF_GRAPH_SECRET_KEY", "startup-test-" + "0123456789abcdef" * 4)
    monkeypatch.setenv("ALIF_GRAPH_CORS_ORIGINS", "https://app.example")
    monkeypatch.delenv("ALIF_GRAPH_DATABASE_OWNER_URL", raising=False)
    get_settings.cache_clear()
    started: list[object] = []
    monkeypatch.setattr("graph.cli.api.uvicorn.run", lambda *a, **k: started.append(a))
    return started


@only_postgres
async def test_the_check_passes_the_app_role_and_refuses_the_owner_and_a_superuser(
    roles: Roles,
) -> None:
    await _migrate_and_grant(roles)
    for url, who in ((roles.owner_url, roles.owner), (roles.admin_url, None)):
        engine = create_engine(url)
        with pytest.raises(RoleError) as refused:
            await refuse_erasing_role(engine)
        await engine.dispose()
        message = str(refused.value)
        assert "\n" not in message and "must name the application role" in message
        assert who is None or repr(who) in message
    app = create_engine(roles.app_url)
    await refuse_erasing_role(app)  # SELECT and INSERT only: nothing to refuse
    admin = create_engine(roles.admin_url)
    async with admin.begin() as conn:  # one privilege too many, granted by hand
        await conn.execute(text(f'GRANT TRUNCATE ON audit_event TO "{roles.app}"'))
    await admin.dispose()
    with pytest.raises(RoleError, match="can TRUNCATE audit_event"):
        await refuse_erasing_role(app)
    await app.dispose()


@only_postgres
@pytest.mark.parametrize("command", [("serve",), ("sync", "--all")])
async def test_production_refuses_to_start_as_the_owner_in_one_line(
    roles: Roles, monkeypatch: pytest.MonkeyPatch, command: tuple[str, ...]
) -> None:
    await _migrate_and_grant(roles)
    started = _production(monkeypatch, roles.owner_url)
    try:
        result = await invoke(*command)
    finally:
        get_settings.cache_clear()

    assert result.exit_code == 1 and not started
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: connected as role"), result.output
    assert "Traceback" not in result.output and "ALIF_GRAPH_DATABASE_URL" in lines[0]


@only_postgres
async def test_production_starts_as_the_app_role(roles: Roles, monkeypatch: pytest.MonkeyPatch):
    await _migrate_and_grant(roles)
    started = _production(monkeypatch, roles.app_url)
    try:
        served = await invoke("serve")
        synced = await invoke("sync", "--all")
    finally:
        get_settings.cache_clear()

    assert served.exit_code == 0 and len(started) == 1, served.output
    assert synced.exit_code == 0, synced.output  # no connections: nothing to do, no refusal


async def test_development_and_sqlite_are_not_checked(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite in production; PostgreSQL as the superuser (it owns everything) in development."""
    started = _production(monkeypatch, db_url)
    if make_url(db_url).get_backend_name() == "postgresql":
        monkeypatch.setenv("ALIF_GRAPH_ENV", "development")
    try:
        await asyncio.to_thread(migrate.upgrade, db_url)
        result = await invoke("serve")
    finally:
        get_settings.cache_clear()

    assert result.exit_code == 0 and len(started) == 1, result.output
