"""link_refs: which posts link to which post identities (links to translations heal later)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 21:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "link_refs",
        sa.Column("source_post_id", sa.Integer(), sa.ForeignKey("posts.id"), primary_key=True),
        sa.Column("identity_hash", sa.String(length=64), primary_key=True),
    )
    op.create_index("ix_link_refs_identity_hash", "link_refs", ["identity_hash"])


def downgrade() -> None:
    op.drop_index("ix_link_refs_identity_hash", table_name="link_refs")
    op.drop_table("link_refs")
