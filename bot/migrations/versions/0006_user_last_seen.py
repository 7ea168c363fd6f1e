"""agent console last seen

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 10:30:07.607886
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.db

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_seen_at', bot.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('last_seen_at')

