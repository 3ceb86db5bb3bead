"""duplicates and internal transfers

`ledger_transaction`: the score and rule of a duplicate link (`duplicate_of_id` exists
since the initial ledger), when the customer said a row is no duplicate, and the other leg
of a move between the customer's own accounts with the rule that paired them.

Revision ID: 104a9b44bf1b
Revises: a15e0c7d3b42
Create Date: 2026-12-02 05:55:19.682371
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '104a9b44bf1b'
down_revision: str | None = 'a15e0c7d3b42'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LEG_FK = 'ledger_transaction_internal_transfer_leg_id_fkey'


def upgrade() -> None:
    with op.batch_alter_table('ledger_transaction', schema=None) as batch_op:
        batch_op.add_column(sa.Column('duplicate_score', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True))
        batch_op.add_column(sa.Column('duplicate_rule', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
        batch_op.add_column(sa.Column('not_duplicate_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('internal_transfer_leg_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
        batch_op.add_column(sa.Column('internal_transfer_rule', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
        batch_op.create_foreign_key(_LEG_FK, 'ledger_transaction', ['internal_transfer_leg_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('ledger_transaction', schema=None) as batch_op:
        batch_op.drop_constraint(_LEG_FK, type_='foreignkey')
        batch_op.drop_column('internal_transfer_rule')
        batch_op.drop_column('internal_transfer_leg_id')
        batch_op.drop_column('not_duplicate_at')
        batch_op.drop_column('duplicate_rule')
        batch_op.drop_column('duplicate_score')
