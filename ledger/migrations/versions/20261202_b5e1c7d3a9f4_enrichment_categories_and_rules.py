"""enrichment: categories and rules

`ledger_transaction`: the categorizer's verdict (`auto_category`, `auto_category_source`,
`category_confidence`), the customer's matching rule (`rule_category`,
`category_rule_id`), the payload hash enrichment last saw (`enriched_hash`) and the row's
normalized text for rules (`match_text`). `category_rule`: the conditions a rule may hold
besides its text (MCC, amount range and currency, type, account). Existing rows are
enriched by `alif-graph enrich run` (or their next sync), not here: the migration stays
free of project code.

Revision ID: b5e1c7d3a9f4
Revises: 104a9b44bf1b
Create Date: 2026-12-02 06:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = 'b5e1c7d3a9f4'
down_revision: str | None = '104a9b44bf1b'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('ledger_transaction', schema=None) as batch_op:
        batch_op.add_column(sa.Column('auto_category', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
        batch_op.add_column(sa.Column('auto_category_source', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True))
        batch_op.add_column(sa.Column('category_confidence', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('rule_category', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
        batch_op.add_column(sa.Column('category_rule_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('enriched_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column('match_text', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True))

    with op.batch_alter_table('category_rule', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mcc', sqlmodel.sql.sqltypes.AutoString(length=4), nullable=True))
        batch_op.add_column(sa.Column('min_amount_minor', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('max_amount_minor', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=True))
        batch_op.add_column(sa.Column('transaction_type', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
        batch_op.add_column(sa.Column('account_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_category_rule_account_id_account', 'account', ['account_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('category_rule', schema=None) as batch_op:
        batch_op.drop_constraint('fk_category_rule_account_id_account', type_='foreignkey')
        batch_op.drop_column('account_id')
        batch_op.drop_column('transaction_type')
        batch_op.drop_column('currency')
        batch_op.drop_column('max_amount_minor')
        batch_op.drop_column('min_amount_minor')
        batch_op.drop_column('mcc')

    with op.batch_alter_table('ledger_transaction', schema=None) as batch_op:
        batch_op.drop_column('match_text')
        batch_op.drop_column('enriched_hash')
        batch_op.drop_column('category_rule_id')
        batch_op.drop_column('rule_category')
        batch_op.drop_column('category_confidence')
        batch_op.drop_column('auto_category_source')
        batch_op.drop_column('auto_category')
