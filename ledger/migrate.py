"""Apply the Alembic migrations programmatically."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

from ledger import roles
from ledger.db import create_engine

_ROOT = Path(__file__).resolve().parent


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_ROOT / "migrations"))
    config.set_main_option("file_template", "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s")
    if url:
        config.set_main_option("sqlalchemy.url", url)
    return config


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
