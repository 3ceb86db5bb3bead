"""The application's PostgreSQL role: what the API and the sync may do to each table.

Migrations run as the owner role, which owns the schema and its tables. The application
connects as another role that owns nothing and holds only these grants:

- an append-only table (one carrying the trigger of `ledger.append_only`: the audit trail,
  the transaction revisions): SELECT and INSERT. No UPDATE or DELETE, which the triggers
  refuse anyway, and no TRUNCATE, which no row trigger sees: only the missing privilege
  stops it;
- `alembic_version`: SELECT;
- every other table: SELECT, INSERT, UPDATE, DELETE;
- the schema: USAGE; its sequences: USAGE, SELECT.

The grants are rebuilt from the tables the schema holds now, so applying them again is
harmless and covers the tables of later migrations. No default privileges: until they are
applied again a new table is closed to the application (it fails loudly), never open.

The API and the sync check at startup in production (`refuse_erasing_role`) that the role
they connect as cannot erase an append-only table: connected as the owner (or a superuser)
they would run, and the audit trail could be emptied by them.

SQLite has no roles; its triggers keep the append-only tables append-only.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from ledger.append_only import postgres_trigger_name

MIGRATIONS_TABLE = "alembic_version"
WRITE = "SELECT, INSERT, UPDATE, DELETE"
APPEND = "SELECT, INSERT"
# What the application role must never be able to do to an append-only table.
ERASING = ("UPDATE", "DELETE", "TRUNCATE")


class RoleError(Exception):
    """The grants cannot be applied as asked; the message says why in one line."""


@dataclass(frozen=True, slots=True)
class Grants:
    """What `grant_app_role` applied, by table."""

    role: str
    schema: str
    append_only: tuple[str, ...]
    writable: tuple[str, ...]


def grant_app_role(connection: Connection, role: str) -> Grants:
    """Give `role` the application's grants on the current schema, as its owner, in the
    caller's transaction; then check the role cannot erase an append-only table."""
    if connection.dialect.name != "postgresql":
        raise RoleError("only PostgreSQL has roles; SQLite's triggers keep the audit append-only")
    _check_role(connection, role)
    schema = str(connection.execute(text("SELECT current_schema()")).scalar_one())
    tables = _tables(connection, schema)
    append_only = tuple(t for t in tables if t in _append_only(connection, schema))
    writable = tuple(t for t in tables if t not in append_only and t != MIGRATIONS_TABLE)
    quote = connection.dialect.identifier_preparer.quote_identifier
    who, where = quote(role), quote(schema)

    def on(names: tuple[str, ...]) -> str:
        return ", ".join(f"{where}.{quote(n)}" for n in names)

    statements = [
        f"GRANT USAGE ON SCHEMA {where} TO {who}",
        f"REVOKE CREATE ON SCHEMA {where} FROM {who}",
        # Start from nothing, so a privilege granted by hand earlier does not survive.
        f"REVOKE ALL ON ALL TABLES IN SCHEMA {where} FROM {who}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {where} FROM {who}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {where} TO {who}",
    ]
    if writable:
        statements.append(f"GRANT {WRITE} ON TABLE {on(writable)} TO {who}")
    if append_only:
        statements.append(f"GRANT {APPEND} ON TABLE {on(append_only)} TO {who}")
    if MIGRATIONS_TABLE in tables:
        statements.append(f"GRANT SELECT ON TABLE {on((MIGRATIONS_TABLE,))} TO {who}")
    for statement in statements:
        connection.execute(text(statement))
    _check_cannot_erase(connection, role, schema, append_only)
    return Grants(role=role, schema=schema, append_only=append_only, writable=writable)


def _check_role(connection: Connection, role: str) -> None:
    # Checked before any REVOKE: revoking from the owner itself would lock it out of its
    # own tables, and grants mean nothing to a superuser.
    found = connection.execute(
        text(
            "SELECT rolsuper, pg_has_role(:role, current_user, 'MEMBER') "
            "FROM pg_roles WHERE rolname = :role"
        ),
        {"role": role},
    ).first()
    if found is None:
        raise RoleError(f"no role {role!r}: create it first (CREATE ROLE ... LOGIN)")
    superuser, owner = found
    if superuser:
        raise RoleError(f"role {role!r} is a superuser: it can erase the audit trail")
    if owner:
        raise RoleError(f"role {role!r} is the owner (or a member of it): use another role")


def _tables(connection: Connection, schema: str) -> tuple[str, ...]:
    rows = connection.execute(
        text("SELECT tablename FROM pg_tables WHERE schemaname = :schema ORDER BY tablename"),
        {"schema": schema},
    )
    return tuple(str(name) for name in rows.scalars())


def _append_only(connection: Connection, schema: str) -> set[str]:
    rows = connection.execute(
        text(
            "SELECT c.relname, t.tgname FROM pg_trigger t "
            "JOIN pg_class c ON c.oid = t.tgrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = :schema AND NOT t.tgisinternal"
        ),
        {"schema": schema},
    )
    return {str(table) for table, trigger in rows if trigger == postgres_trigger_name(table)}


def _check_cannot_erase(
    connection: Connection, role: str, schema: str, append_only: tuple[str, ...]
) -> None:
    # Privileges reach a role through PUBLIC and through other roles it is a member of too:
    # ask PostgreSQL what the role can do, whatever the path.
    quote = connection.dialect.identifier_preparer.quote_identifier
    for table in append_only:
        for privilege in ERASING:
            allowed = connection.execute(
                text("SELECT has_table_privilege(:role, :table, :privilege)"),
                {"role": role, "table": f"{quote(schema)}.{quote(table)}", "privilege": privilege},
            ).scalar_one()
            if allowed:
                raise RoleError(
                    f"role {role!r} can still {privilege} {table} (through PUBLIC or another "
                    "role it belongs to): revoke that grant"
                )


def erasing_privilege(connection: Connection) -> tuple[str, str, str] | None:
    """(role, privilege, table) when the connected role can UPDATE, DELETE or TRUNCATE an
    append-only table of the current schema; None when it cannot, or on SQLite."""
    if connection.dialect.name != "postgresql":
        return None
    role, schema = connection.execute(text("SELECT current_user, current_schema()")).one()
    quote = connection.dialect.identifier_preparer.quote_identifier
    for table in sorted(_append_only(connection, schema)):
        for privilege in ERASING:
            allowed = connection.execute(
                text("SELECT has_table_privilege(current_user, :table, :privilege)"),
                {"table": f"{quote(schema)}.{quote(table)}", "privilege": privilege},
            ).scalar_one()
            if allowed:
                return str(role), privilege, table
    return None


async def refuse_erasing_role(engine: AsyncEngine) -> None:
    """Raise RoleError (one line, naming the fix) when `engine` connects as a role that can
    erase the audit trail: the owner, a superuser, or one granted too much."""
    async with engine.connect() as connection:
        found = await connection.run_sync(erasing_privilege)
    if found is not None:
        role, privilege, table = found
        raise RoleError(
            f"connected as role {role!r}, which can {privilege} {table}: in production "
            "ALIF_GRAPH_DATABASE_URL must name the application role (`alif-graph db grant`; "
            "docs/database.md)"
        )
