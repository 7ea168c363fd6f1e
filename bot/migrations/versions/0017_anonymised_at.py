"""conversations.anonymised_at: when a chat's names, addresses and lines were erased (a customer's
erasure, or retention after RETENTION_DAYS), so the retention sweep passes over it afterwards

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 14:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.db

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('anonymised_at', bot.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_column('anonymised_at')
