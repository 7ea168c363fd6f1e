"""inbox reviews: what managers did with each feedback item and survey comment

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-26 14:15:02.250132
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.db

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('inbox_reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_kind', sa.String(length=16), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('reviewed_at', bot.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reviewed_by', sa.Integer(), nullable=True),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('due_at', bot.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('action_note', sa.Text(), nullable=True),
    sa.Column('updated_at', bot.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_inbox_reviews_owner_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['reviewed_by'], ['users.id'], name=op.f('fk_inbox_reviews_reviewed_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbox_reviews')),
    sa.UniqueConstraint('item_kind', 'item_id', name=op.f('uq_inbox_reviews_item_kind'))
    )
    with op.batch_alter_table('inbox_reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inbox_reviews_owner_id'), ['owner_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('inbox_reviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inbox_reviews_owner_id'))

    op.drop_table('inbox_reviews')
