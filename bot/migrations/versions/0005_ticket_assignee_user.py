"""ticket assignee is a user

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 10:11:29.073810
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('assignee_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_tickets_assignee_id'), ['assignee_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_tickets_assignee_id_users'), 'users', ['assignee_id'], ['id'], ondelete='SET NULL')
    # The old free-text assignee becomes the user with that e-mail or name, where there is one.
    op.execute(
        "UPDATE tickets SET assignee_id = (SELECT MIN(users.id) FROM users"
        " WHERE lower(users.email) = lower(tickets.assignee) OR users.name = tickets.assignee)"
        " WHERE assignee IS NOT NULL"
    )
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_column('assignee')


def downgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('assignee', sa.VARCHAR(length=200), nullable=True))
    op.execute(
        "UPDATE tickets SET assignee = (SELECT users.email FROM users WHERE users.id = tickets.assignee_id)"
        " WHERE assignee_id IS NOT NULL"
    )
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_tickets_assignee_id_users'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_tickets_assignee_id'))
        batch_op.drop_column('assignee_id')
