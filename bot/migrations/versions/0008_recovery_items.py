"""recovery items: an owner, a deadline and an outcome for each unhappy customer

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 13:48:21.496304
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.db

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('recovery_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('survey_response_id', sa.Integer(), nullable=True),
    sa.Column('feedback_id', sa.Integer(), nullable=True),
    sa.Column('conversation_id', sa.String(length=128), nullable=True),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('due_at', bot.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('outcome', sa.Text(), nullable=True),
    sa.Column('created_at', bot.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', bot.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('contacted_at', bot.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', bot.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['feedback_id'], ['feedback.id'], name=op.f('fk_recovery_items_feedback_id_feedback'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_recovery_items_owner_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['survey_response_id'], ['survey_responses.id'], name=op.f('fk_recovery_items_survey_response_id_survey_responses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_recovery_items_ticket_id_tickets'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery_items')),
    sa.UniqueConstraint('feedback_id', name=op.f('uq_recovery_items_feedback_id')),
    sa.UniqueConstraint('survey_response_id', name=op.f('uq_recovery_items_survey_response_id'))
    )
    with op.batch_alter_table('recovery_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recovery_items_conversation_id'), ['conversation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_recovery_items_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_recovery_items_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index('ix_recovery_items_status_due_at', ['status', 'due_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('recovery_items', schema=None) as batch_op:
        batch_op.drop_index('ix_recovery_items_status_due_at')
        batch_op.drop_index(batch_op.f('ix_recovery_items_owner_id'))
        batch_op.drop_index(batch_op.f('ix_recovery_items_created_at'))
        batch_op.drop_index(batch_op.f('ix_recovery_items_conversation_id'))

    op.drop_table('recovery_items')
