"""booked history and reconciliation

Transactions are identified per account (OBP's key is bank, account, id), upstream text
columns take OBP's sizes, booked rows the bank no longer lists get `removed_at`, and two new
tables: the append-only `transaction_revision` and `account_reconciliation`.

Existing rows are kept: (connection, external id) unique implies (account, external id)
unique, and every column only widens.

Revision ID: 9c3e5f1a7b20
Revises: 4ea24c1f0616
Create Date: 2026-12-01 22:20:00.000000
"""

import re
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op



revision: str = '9c3e5f1a7b20'
down_revision: str | None = '4ea24c1f0616'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# SQLite's reflection names no unique constraint; this convention names the old one so
# batch mode can drop it (PostgreSQL named it `<table>_<column>_<column>_key` itself).
NAMING = {"uq": "uq_%(table_name)s_%(column_0_name)s"}

# (table, column, old length, new length): OBP's own column sizes.
WIDENED = [
    ('account', 'name', 200, 255),
    ('account', 'number', 64, 255),
    ('account', 'product_code', 64, 255),
    ('card', 'holder_name', 200, 255),
    ('transfer', 'counterparty_name', 200, 255),
    ('transfer', 'counterparty_account', 64, 255),
    ('transfer', 'reference', 200, 2000),
    ('service_payment', 'provider', 100, 255),
    ('ledger_transaction', 'description', 500, 2000),
    ('ledger_transaction', 'counterparty_name', 200, 255),
    ('ledger_transaction', 'counterparty_account', 64, 255),
    ('ledger_transaction', 'counterparty_bank', 200, 255),
    ('ledger_transaction', 'merchant_name', 200, 255),
]
NOT_NULL = {('account', 'name'), ('service_payment', 'provider')}

SQLITE_TRIGGERS = [
    "CREATE TRIGGER transaction_revision_no_update BEFORE UPDATE ON transaction_revision "
    "BEGIN SELECT RAISE(ABORT, 'transaction_revision is append-only'); END",
    "CREATE TRIGGER transaction_revision_no_delete BEFORE DELETE ON transaction_revision "
    "BEGIN SELECT RAISE(ABORT, 'transaction_revision is append-only'); END",
]
POSTGRES_TRIGGERS = [
    "CREATE OR REPLACE FUNCTION transaction_revision_append_only() RETURNS trigger AS $$ "
    "BEGIN RAISE EXCEPTION 'transaction_revision is append-only'; END $$ LANGUAGE plpgsql",
    "CREATE TRIGGER transaction_revision_append_only BEFORE UPDATE OR DELETE ON "
    "transaction_revision FOR EACH ROW EXECUTE FUNCTION transaction_revision_append_only()",
]


def _resize(table: str, *, grow: bool) -> None:
    """Widen (or narrow back) the table's columns in WIDENED."""
    columns = [(c, o, n) if grow else (c, n, o) for t, c, o, n in WIDENED if t == table]
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_retype(table, columns)
        return
    with op.batch_alter_table(table, schema=None) as batch_op:
        for column, old, new in columns:
            batch_op.alter_column(
                column,
                existing_type=sqlmodel.sql.sqltypes.AutoString(length=old),
                type_=sqlmodel.sql.sqltypes.AutoString(length=new),
                existing_nullable=(table, column) not in NOT_NULL,
            )


def _sqlite_retype(table: str, columns: list[tuple[str, int, int]]) -> None:
    """SQLite keeps a declared VARCHAR length but never enforces it, so only the schema text
    changes: SQLite's own procedure for changes that leave the stored data alone (edit
    sqlite_schema, bump schema_version). Batch mode's table rebuild cannot be used here:
    dropping a table that other rows reference fails under foreign_keys=ON, which cannot
    be switched off inside the migration's transaction."""
    bind = op.get_bind()
    sql = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    ).scalar_one()
    for column, old, new in columns:
        sql, found = re.subn(
            rf'(\b{column}\s+)VARCHAR\({old}\)', rf'\g<1>VARCHAR({new})', sql, flags=re.I
        )
        assert found == 1, f"{table}.{column} is not VARCHAR({old})"
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar_one()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    bind.exec_driver_sql(
        "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?", (sql, table)
    )
    bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema = OFF")


def _old_unique_name() -> str:
    if op.get_bind().dialect.name == "sqlite":
        return 'uq_ledger_transaction_connection_id'
    return 'ledger_transaction_connection_id_external_id_key'


def upgrade() -> None:
    for name in ('account', 'card', 'transfer', 'service_payment', 'ledger_transaction'):
        _resize(name, grow=True)
    # Rebuilt on SQLite (nothing references ledger_transaction yet but itself).
    with op.batch_alter_table(
        'ledger_transaction', schema=None, naming_convention=NAMING
    ) as batch_op:
        batch_op.add_column(sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.drop_constraint(_old_unique_name(), type_='unique')
        batch_op.create_unique_constraint(
            'uq_transaction_account_external', ['account_id', 'external_id']
        )
        batch_op.create_index('ix_transaction_account_booked', ['account_id', 'booked_at'], unique=False)

    op.create_table('account_reconciliation',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('sync_run_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('checked_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('bank_booked_minor', sa.BigInteger(), nullable=True),
    sa.Column('ledger_booked_minor', sa.BigInteger(), nullable=False),
    sa.Column('difference_minor', sa.BigInteger(), nullable=True),
    sa.Column('implied_opening_minor', sa.BigInteger(), nullable=True),
    sa.Column('first_day', sa.Date(), nullable=True),
    sa.Column('reconciled', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], ),
    sa.ForeignKeyConstraint(['sync_run_id'], ['sync_run.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('account_reconciliation', schema=None) as batch_op:
        batch_op.create_index('ix_account_reconciliation_checked', ['account_id', 'checked_at'], unique=False)

    op.create_table('transaction_revision',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('transaction_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('sync_run_id', sa.Integer(), nullable=True),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('booking_date', sa.Date(), nullable=False),
    sa.Column('booked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('balance_after_minor', sa.BigInteger(), nullable=True),
    sa.Column('counterparty_name', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
    sa.Column('counterparty_account', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
    sa.Column('payload_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], ),
    sa.ForeignKeyConstraint(['sync_run_id'], ['sync_run.id'], ),
    sa.ForeignKeyConstraint(['transaction_id'], ['ledger_transaction.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('transaction_revision', schema=None) as batch_op:
        batch_op.create_index('ix_transaction_revision_recorded', ['recorded_at'], unique=False)
        batch_op.create_index('ix_transaction_revision_transaction', ['transaction_id', 'recorded_at', 'id'], unique=False)

    # Booked history is append-only, enforced by the database itself (DDL written out
    # here, not imported: a migration is frozen at the day it was made).
    triggers = SQLITE_TRIGGERS if op.get_bind().dialect.name == "sqlite" else POSTGRES_TRIGGERS
    for statement in triggers:
        op.execute(statement)


def downgrade() -> None:
    """Feasible while no account holds two rows of one upstream id (the old key refuses
    them: the downgrade then fails rather than drop one) and no text exceeds the old sizes.
    Revisions and reconciliations are dropped with their tables."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS transaction_revision_no_update")
        op.execute("DROP TRIGGER IF EXISTS transaction_revision_no_delete")
    else:
        op.execute("DROP TRIGGER IF EXISTS transaction_revision_append_only ON transaction_revision")
        op.execute("DROP FUNCTION IF EXISTS transaction_revision_append_only()")
    with op.batch_alter_table('transaction_revision', schema=None) as batch_op:
        batch_op.drop_index('ix_transaction_revision_transaction')
        batch_op.drop_index('ix_transaction_revision_recorded')

    op.drop_table('transaction_revision')
    with op.batch_alter_table('account_reconciliation', schema=None) as batch_op:
        batch_op.drop_index('ix_account_reconciliation_checked')

    op.drop_table('account_reconciliation')
    with op.batch_alter_table('ledger_transaction', schema=None) as batch_op:
        batch_op.drop_index('ix_transaction_account_booked')
        batch_op.drop_constraint('uq_transaction_account_external', type_='unique')
        batch_op.create_unique_constraint(
            _old_unique_name(), ['connection_id', 'external_id']
        )
        batch_op.drop_column('removed_at')
    for name in ('account', 'card', 'transfer', 'service_payment', 'ledger_transaction'):
        _resize(name, grow=False)
