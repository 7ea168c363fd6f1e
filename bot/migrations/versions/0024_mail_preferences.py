"""mail_preferences (a customer's address stops the survey e-mails) and outbox_mails.unsubscribe_url

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 21:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.db

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'mail_preferences',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('address', sa.String(length=254), nullable=False),
        sa.Column('surveys', sa.Boolean(), nullable=False),
        sa.Column('changed_at', bot.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_preferences')),
        sa.UniqueConstraint('address', name=op.f('uq_mail_preferences_address'))
    )
    with op.batch_alter_table('outbox_mails', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unsubscribe_url', sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('outbox_mails', schema=None) as batch_op:
        batch_op.drop_column('unsubscribe_url')
    op.drop_table('mail_preferences')
