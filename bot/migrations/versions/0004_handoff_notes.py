"""private notes on handoffs

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 08:21:21.953785
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.db

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('handoff_notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('handoff_id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', bot.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['users.id'], name=op.f('fk_handoff_notes_agent_id_users')),
    sa.ForeignKeyConstraint(['handoff_id'], ['handoffs.id'], name=op.f('fk_handoff_notes_handoff_id_handoffs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_handoff_notes'))
    )
    with op.batch_alter_table('handoff_notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_handoff_notes_handoff_id'), ['handoff_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('handoff_notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_handoff_notes_handoff_id'))

    op.drop_table('handoff_notes')
