"""surveys answered on the ticket's page: channel "page" (was "web", which chats' own channel also uses)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 19:30:00.000000
"""

from __future__ import annotations

from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("UPDATE survey_responses SET channel = 'page' WHERE channel = 'web' AND conversation_id LIKE 'ticket:%'")


def downgrade() -> None:
    op.execute("UPDATE survey_responses SET channel = 'web' WHERE channel = 'page' AND conversation_id LIKE 'ticket:%'")
