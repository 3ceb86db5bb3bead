"""customer PIN and SCA failures

The customer's PIN (argon2 hash only) as the knowledge factor of SCA, and `sca_failure`:
failed attempts counted per customer (per phone) over a rolling window.

Revision ID: 5d2b8e4c1a93
Revises: 3d7a2b9e4c61
Create Date: 2026-12-01 23:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op



revision: str = '5d2b8e4c1a93'
down_revision: str | None = '3d7a2b9e4c61'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pin_hash', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))

    op.create_table('sca_failure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('factor', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('failed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('sca_failure', schema=None) as batch_op:
        batch_op.create_index('ix_sca_failure_customer', ['customer_id', 'failed_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('sca_failure', schema=None) as batch_op:
        batch_op.drop_index('ix_sca_failure_customer')

    op.drop_table('sca_failure')
    # Not batch mode: recreating `customer` in SQLite would break the keys that name it.
    op.execute('ALTER TABLE customer DROP COLUMN pin_hash')
