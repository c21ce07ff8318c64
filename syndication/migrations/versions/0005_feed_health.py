"""feeds.failing_since, failed_polls, notes: a feed is retired only after 410/404 on several polls
spread over days, and what a lenient read repaired is kept as a note, not an error

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("feeds") as batch:
        batch.add_column(sa.Column("failing_since", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("failed_polls", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("notes", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("feeds") as batch:
        batch.drop_column("notes")
        batch.drop_column("failed_polls")
        batch.drop_column("failing_since")
