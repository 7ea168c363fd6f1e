"""outbox_mails.recovery_item_id: a person's follow-up of an unhappy customer, sent from the recovery item

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 20:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox_mails', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recovery_item_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_outbox_mails_recovery_item_id'), ['recovery_item_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_outbox_mails_recovery_item_id_recovery_items'), 'recovery_items',
                                    ['recovery_item_id'], ['id'], ondelete='SET NULL')


def downgrade() -> None:
    with op.batch_alter_table('outbox_mails', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_outbox_mails_recovery_item_id_recovery_items'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_outbox_mails_recovery_item_id'))
        batch_op.drop_column('recovery_item_id')
