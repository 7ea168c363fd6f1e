"""inbound_mails: each e-mail taken from the support mailbox, once, and what became of it

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 17:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.db

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'inbound_mails',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('message_id', sa.String(length=250), nullable=False),
        sa.Column('received_at', bot.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('from_address', sa.String(length=254), nullable=False),
        sa.Column('subject', sa.String(length=300), nullable=False),
        sa.Column('outcome', sa.String(length=16), nullable=False),
        sa.Column('reason', sa.String(length=300), nullable=True),
        sa.Column('ticket_id', sa.Integer(), nullable=True),
        sa.Column('text', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_inbound_mails_ticket_id_tickets'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_inbound_mails')),
        sa.UniqueConstraint('message_id', name=op.f('uq_inbound_mails_message_id')),
    )
    with op.batch_alter_table('inbound_mails', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inbound_mails_outcome'), ['outcome'], unique=False)
        batch_op.create_index(batch_op.f('ix_inbound_mails_ticket_id'), ['ticket_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('inbound_mails', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inbound_mails_ticket_id'))
        batch_op.drop_index(batch_op.f('ix_inbound_mails_outcome'))
    op.drop_table('inbound_mails')
