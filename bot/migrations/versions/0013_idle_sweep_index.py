"""an index for the sweep that closes chats left idle with the bot

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-26 17:02:15.432880
"""

from __future__ import annotations

from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.create_index('ix_conversations_state_updated', ['state', 'updated_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_index('ix_conversations_state_updated')

