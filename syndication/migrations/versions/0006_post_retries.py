"""posts: page retries with backoff, and validators for re-checking linked articles

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 10:00:00.000000

A post given up for good under the old rules (``failed``) gets the new schedule: it becomes
``waiting``, due on the next run. Extracted posts count as checked when they were last updated,
so the first run after the upgrade does not re-check every linked article at once.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("posts") as batch:
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("next_attempt_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("checked_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("etag", sa.String(length=500), nullable=True))
        batch.add_column(sa.Column("last_modified", sa.String(length=100), nullable=True))
    op.execute("UPDATE posts SET status = 'waiting', next_attempt_at = NULL WHERE status = 'failed'")
    op.execute("UPDATE posts SET checked_at = updated_at WHERE status = 'extracted'")


def downgrade() -> None:
    op.execute("UPDATE posts SET status = 'failed' WHERE status = 'waiting'")
    with op.batch_alter_table("posts") as batch:
        batch.drop_column("last_modified")
        batch.drop_column("etag")
        batch.drop_column("checked_at")
        batch.drop_column("next_attempt_at")
        batch.drop_column("attempts")
