"""alerts: warning thresholds crossed, from firing to clearing

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26 14:10:19.002128
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.db

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('alerts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rule_key', sa.String(length=40), nullable=False),
    sa.Column('metric', sa.String(length=40), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('threshold', sa.Double(), nullable=False),
    sa.Column('fired_value', sa.Double(), nullable=False),
    sa.Column('value', sa.Double(), nullable=False),
    sa.Column('fired_at', bot.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('checked_at', bot.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('cleared_at', bot.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('webhook_status', sa.String(length=16), nullable=False),
    sa.Column('webhook_attempts', sa.Integer(), nullable=False),
    sa.Column('webhook_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alerts'))
    )
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alerts_fired_at'), ['fired_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_alerts_rule_key'), ['rule_key'], unique=False)
        batch_op.create_index('uq_alerts_active_rule', ['rule_key'], unique=True,
                              sqlite_where=sa.text('cleared_at IS NULL'),
                              postgresql_where=sa.text('cleared_at IS NULL'))


def downgrade() -> None:
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_index('uq_alerts_active_rule')
        batch_op.drop_index(batch_op.f('ix_alerts_rule_key'))
        batch_op.drop_index(batch_op.f('ix_alerts_fired_at'))

    op.drop_table('alerts')
