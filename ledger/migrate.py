"""Apply the Alembic migrations programmatically."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from ledger import roles
from ledger.db import check_reachable_file, create_engine, is_sqlite

_ROOT = Path(__file__).resolve().parent


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_ROOT / "migrations"))
    config.set_main_option("file_template", "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s")
    if url:
        # The option is interpolated: a `%` in a password would read as a placeholder.
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


class SchemaNotCurrent(Exception):
    """The database is not at the latest migration (no tables yet, or behind)."""

    def __init__(self, current: tuple[str, ...], head: tuple[str, ...]) -> None:
        self.current, self.head = current, head
        where = (
            "has no tables yet"
            if not current
            else f"is at migration {', '.join(current)}, not the latest ({', '.join(head)})"
        )
        super().__init__(f"the database {where}; run `alif-graph db upgrade`")


@dataclass(frozen=True, slots=True)
class SchemaState:
    current: tuple[str, ...]
    head: tuple[str, ...]

    @property
    def at_head(self) -> bool:
        return set(self.current) == set(self.head)

    def check(self) -> None:
        if not self.at_head:
            raise SchemaNotCurrent(self.current, self.head)


@cache
def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head_revisions() -> tuple[str, ...]:
    """The latest migration(s) this code ships."""
    return tuple(sorted(_scripts().get_heads()))


def stamp_head(connection: Connection) -> None:
    """Record a schema built from the models (`metadata.create_all`, as the tests build
    theirs) as at the latest migration, which it equals (tests/ledger/test_migrations.py)."""
    MigrationContext.configure(connection).stamp(_scripts(), "heads")


def _current(connection: Connection) -> tuple[str, ...]:
    return tuple(sorted(MigrationContext.configure(connection).get_current_heads()))


async def schema_state(engine: AsyncEngine) -> SchemaState:
    """Where the database behind `engine` is against the shipped migrations (connects:
    raises the driver's error when the database cannot be reached)."""
    async with engine.connect() as connection:
        current = await connection.run_sync(_current)
    return SchemaState(current, head_revisions())


def ensure_current(url: str, *, migrate_sqlite: bool) -> bool:
    """Raise SchemaNotCurrent unless the database at `url` is at the latest migration;
    with `migrate_sqlite` an embedded SQLite database is migrated instead (the first run
    of a development checkout). Returns whether it migrated. Runs its own event loop."""
    check_reachable_file(url)
    state = asyncio.run(_state_of(url))
    if state.at_head:
        return False
    if migrate_sqlite and is_sqlite(url):
        upgrade(url)
        return True
    state.check()
    return False


async def _state_of(url: str) -> SchemaState:
    engine = create_engine(url)
    try:
        return await schema_state(engine)
    finally:
        await engine.dispose()


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at `url` (runs its own event loop: call from sync code)."""
    command.upgrade(alembic_config(url), revision)


def grant_app_role(url: str, role: str) -> roles.Grants:
    """Apply the application role's grants (`ledger.roles`) over the database at `url`,
    connected as its owner (runs its own event loop: call from sync code)."""
    return asyncio.run(_grant_app_role(url, role))


async def _grant_app_role(url: str, role: str) -> roles.Grants:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            return await connection.run_sync(roles.grant_app_role, role)
    finally:
        await engine.dispose()


def revision(url: str, message: str) -> None:
    """Generate a migration from the difference between the models and the database at
    `url` (which must be at head); review it before committing."""
    command.revision(alembic_config(url), message=message, autogenerate=True)


def upgrade_connection(connection: Connection, revision: str = "head") -> None:
    """Migrate over an existing sync connection (e.g. inside `AsyncConnection.run_sync`)."""
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


def downgrade_connection(connection: Connection, revision: str) -> None:
    """Migrate down to `revision` over an existing sync connection."""
    config = alembic_config()
    config.attributes["connection"] = connection
    command.downgrade(config, revision)
