"""reports: indexes; per-day counts of survey offers and scored answers, and the questions each
survey version asked, filled from the responses and answers; each conversation's customer lines,
handoff and ticket, and each ticket's response and resolution seconds, filled likewise

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-26 16:26:26.822097
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.reports.rollups import rebuild_answer_summaries, recount_conversation_facts, time_tickets

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('survey_score_days',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('question_key', sa.String(length=64), nullable=False),
    sa.Column('question_type', sa.String(length=16), nullable=False),
    sa.Column('position', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('score', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('answers', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'question_key', 'question_type', 'position', 'score', name=op.f('pk_survey_score_days'))
    )
    op.create_table('survey_questions_seen',
    sa.Column('survey_key', sa.String(length=64), nullable=False),
    sa.Column('survey_version', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('question_key', sa.String(length=64), nullable=False),
    sa.Column('question_type', sa.String(length=16), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('survey_key', 'survey_version', 'question_key', 'question_type', name=op.f('pk_survey_questions_seen'))
    )
    op.create_table('survey_offer_days',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('offered', sa.Integer(), nullable=False),
    sa.Column('completed', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_survey_offer_days'))
    )
    rebuild_answer_summaries(op.get_bind())
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('customer_lines', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('asked_for_person', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('has_ticket', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_index('ix_conversations_report', ['created_at', 'customer_lines', 'asked_for_person', 'has_ticket', 'id'], unique=False)
    recount_conversation_facts(op.get_bind())

    with op.batch_alter_table('handoffs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_handoffs_requested_at'), ['requested_at'], unique=False)

    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.create_index('ix_messages_created_sender', ['created_at', 'sender', 'fallback'], unique=False)
        batch_op.create_index('ix_messages_conversation_sender', ['conversation_id', 'sender'], unique=False)

    with op.batch_alter_table('survey_responses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_survey_responses_started_at'))
        batch_op.create_index('ix_survey_responses_started_completed', ['started_at', 'id', 'completed'], unique=False)
        batch_op.create_index('ix_survey_responses_version_started', ['survey_key', 'survey_version', 'started_at'], unique=False)

    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('first_response_seconds', sa.Double(), nullable=True))
        batch_op.add_column(sa.Column('resolution_seconds', sa.Double(), nullable=True))
        batch_op.create_index('ix_tickets_report', ['created_at', 'category', 'priority', 'classification', 'first_response_due', 'first_responded_at', 'resolution_due', 'resolved_at', 'first_response_seconds', 'resolution_seconds'], unique=False)
    time_tickets(op.get_bind())



def downgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_report')
        batch_op.drop_column('resolution_seconds')
        batch_op.drop_column('first_response_seconds')

    with op.batch_alter_table('survey_responses', schema=None) as batch_op:
        batch_op.drop_index('ix_survey_responses_version_started')
        batch_op.drop_index('ix_survey_responses_started_completed')
        batch_op.create_index(batch_op.f('ix_survey_responses_started_at'), ['started_at'], unique=False)

    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index('ix_messages_conversation_sender')
        batch_op.drop_index('ix_messages_created_sender')

    with op.batch_alter_table('handoffs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_handoffs_requested_at'))

    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_index('ix_conversations_report')
        batch_op.drop_column('has_ticket')
        batch_op.drop_column('asked_for_person')
        batch_op.drop_column('customer_lines')
    op.drop_table('survey_offer_days')
    op.drop_table('survey_questions_seen')
    op.drop_table('survey_score_days')
