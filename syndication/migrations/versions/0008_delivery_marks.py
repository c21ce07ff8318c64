"""delivery_marks: how far each channel is planned; indexes for planning only what changed

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-08 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "delivery_marks",
        sa.Column("channel", sa.String(length=100), primary_key=True),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("planned_through", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_translations_updated_at", "translations", ["updated_at"])
    op.create_index("ix_posts_updated_at", "posts", ["updated_at"])


def downgrade() -> None:
    op.drop_index("ix_posts_updated_at", table_name="posts")
    op.drop_index("ix_translations_updated_at", table_name="translations")
    op.drop_table("delivery_marks")
