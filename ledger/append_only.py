"""Tables nobody can rewrite: the database itself refuses UPDATE and DELETE on them.

Enforced by triggers on both dialects, installed with the table by `metadata.create_all`
(the migrations carry their own frozen copies of the same statements).
"""

from __future__ import annotations

from sqlalchemy import DDL, Table, event


def sqlite_triggers(name: str) -> list[str]:
    return [
        f"CREATE TRIGGER {name}_no_{op.lower()} BEFORE {op} ON {name} "
        f"BEGIN SELECT RAISE(ABORT, '{name} is append-only'); END"
        for op in ("UPDATE", "DELETE")
    ]


def postgres_trigger_name(name: str) -> str:
    """The trigger (and its function) by which PostgreSQL knows `name` is append-only; the
    application role's grants (`ledger.roles`) look for it."""
    return f"{name}_append_only"


def postgres_triggers(name: str) -> list[str]:
    trigger = postgres_trigger_name(name)
    return [
        f"CREATE OR REPLACE FUNCTION {trigger}() RETURNS trigger AS $$ "
        f"BEGIN RAISE EXCEPTION '{name} is append-only'; END $$ LANGUAGE plpgsql",
        f"CREATE TRIGGER {trigger} BEFORE UPDATE OR DELETE ON {name} "
        f"FOR EACH ROW EXECUTE FUNCTION {trigger}()",
    ]


def make_append_only(target: Table) -> None:
    """Install the refusing triggers whenever `target` is created."""
    for statement in sqlite_triggers(target.name):
        event.listen(target, "after_create", DDL(statement).execute_if(dialect="sqlite"))
    for statement in postgres_triggers(target.name):
        event.listen(target, "after_create", DDL(statement).execute_if(dialect="postgresql"))
