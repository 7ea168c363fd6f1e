"""the key of the customer's line that opened a ticket or gave feedback, unique: a line sent again to
another Rasa server finds its ticket or feedback instead of making a second one

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 03:50:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source_line', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint('uq_tickets_source_line', ['source_line'])
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source_line', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint('uq_feedback_source_line', ['source_line'])


def downgrade() -> None:
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.drop_constraint('uq_feedback_source_line', type_='unique')
        batch_op.drop_column('source_line')
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_constraint('uq_tickets_source_line', type_='unique')
        batch_op.drop_column('source_line')
