"""handoff requeue time

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 11:59:47.562977
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.db

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('handoffs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('queued_at', bot.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('handoffs', schema=None) as batch_op:
        batch_op.drop_column('queued_at')

