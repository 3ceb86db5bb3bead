"""sync run trigger

How each sync run was started: UNATTENDED (the scheduler, `alif-graph sync`), CUSTOMER (a
refresh the customer asked for while present) or LINK (the read that completes linking a
bank). Runs recorded before this revision were all unattended.

Revision ID: 3d7a2b9e4c61
Revises: 9c3e5f1a7b20
Create Date: 2026-12-01 23:35:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op



revision: str = '3d7a2b9e4c61'
down_revision: str | None = '9c3e5f1a7b20'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('sync_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('trigger', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False, server_default=sa.text("'UNATTENDED'")))


def downgrade() -> None:
    with op.batch_alter_table('sync_run', schema=None) as batch_op:
        batch_op.drop_column('trigger')
