"""trusted documents

`trusted_document`: the GraphQL documents an app registered (persisted operations), by
`sha256:<hex>` id, unique per app.

Revision ID: 7e4a1c9b2d58
Revises: 5d2b8e4c1a93
Create Date: 2026-12-02 03:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '7e4a1c9b2d58'
down_revision: str | None = '5d2b8e4c1a93'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('trusted_document',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_pk', sa.Integer(), nullable=False),
    sa.Column('document_id', sqlmodel.sql.sqltypes.AutoString(length=71), nullable=False),
    sa.Column('document', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['client_pk'], ['client.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('client_pk', 'document_id')
    )
    with op.batch_alter_table('trusted_document', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_trusted_document_client_pk'), ['client_pk'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('trusted_document', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_trusted_document_client_pk'))

    op.drop_table('trusted_document')
