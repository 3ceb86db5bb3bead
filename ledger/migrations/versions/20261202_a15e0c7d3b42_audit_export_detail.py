"""audit export detail

`audit_event.detail`: what an access produced where the digest of ids does not say it; a
statement export's format, period and SHA-256 (ledger/exports). Nullable: every earlier
row has none. ADD COLUMN on both dialects keeps the append-only triggers in place.

Revision ID: a15e0c7d3b42
Revises: b41d6e8a2f07
Create Date: 2026-12-02 06:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = 'a15e0c7d3b42'
down_revision: str | None = 'b41d6e8a2f07'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        'audit_event',
        sa.Column('detail', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
    )


def downgrade() -> None:
    op.drop_column('audit_event', 'detail')
