"""segment_confidence: the engine's confidence per translated segment and memory entry

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 21:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("translated_segments") as batch:
        batch.add_column(sa.Column("confidence", sa.Float(), nullable=True))
    with op.batch_alter_table("translation_memory") as batch:
        batch.add_column(sa.Column("confidence", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("translation_memory") as batch:
        batch.drop_column("confidence")
    with op.batch_alter_table("translated_segments") as batch:
        batch.drop_column("confidence")
