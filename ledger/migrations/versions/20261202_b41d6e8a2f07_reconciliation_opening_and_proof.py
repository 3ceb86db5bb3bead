"""reconciliation opening and proof

Each check of an account also records the balance before the ledger's first counted row
and what is known of it (opening: PROVEN UNPROVEN LOST), the bank instant from which the
run's read proved the listing (proven_from) and when the whole history was last proven
(history_proven_at). Checks recorded before this revision leave them null (unknown).

Revision ID: b41d6e8a2f07
Revises: 7e4a1c9b2d58
Create Date: 2026-12-02 06:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op



revision: str = 'b41d6e8a2f07'
down_revision: str | None = '7e4a1c9b2d58'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('account_reconciliation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('opening_minor', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('opening', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True))
        batch_op.add_column(sa.Column('proven_from', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('history_proven_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('account_reconciliation', schema=None) as batch_op:
        batch_op.drop_column('history_proven_at')
        batch_op.drop_column('proven_from')
        batch_op.drop_column('opening')
        batch_op.drop_column('opening_minor')
