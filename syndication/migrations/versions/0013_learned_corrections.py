"""learned_corrections: editors' corrections of engine output, learned per engine and pair

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08 00:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "learned_corrections",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("engine", sa.String(50), nullable=False),
        sa.Column("source_lang", sa.String(10), nullable=False),
        sa.Column("target_lang", sa.String(10), nullable=False),
        sa.Column("term", sa.String(200), nullable=False),
        sa.Column("wrong", sa.String(200), nullable=False),
        sa.Column("right", sa.String(200), nullable=False),
        sa.Column("uses", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("declined", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("reverted", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("created_by", sa.String(200), nullable=True),
        sa.Column("last_by", sa.String(200), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("engine", "source_lang", "target_lang", "term", "wrong", "right"),
    )
    op.create_index(
        "ix_learned_corrections_pair", "learned_corrections", ["engine", "source_lang", "target_lang", "uses"]
    )
    op.create_table(
        "correction_uses",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("correction_id", sa.Integer(), sa.ForeignKey("learned_corrections.id"), nullable=False),
        sa.Column("translation_id", sa.Integer(), nullable=False),
        sa.Column("segment_key", sa.String(50), nullable=False),
        sa.Column("made", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("actor", sa.String(200), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("correction_id", "translation_id", "segment_key"),
    )
    op.create_index("ix_correction_uses_correction_id", "correction_uses", ["correction_id"])
    with op.batch_alter_table("translated_segments") as batch:
        batch.add_column(sa.Column("machine_target", sa.Text(), nullable=True))
        batch.add_column(sa.Column("corrections", sa.JSON(), nullable=False, server_default="[]"))
    # Open machine segments of existing items: their text is still the engine's until edited.
    op.execute("UPDATE translated_segments SET machine_target = target WHERE origin IN ('machine', 'memory')")


def downgrade() -> None:
    with op.batch_alter_table("translated_segments") as batch:
        batch.drop_column("corrections")
        batch.drop_column("machine_target")
    op.drop_index("ix_correction_uses_correction_id", table_name="correction_uses")
    op.drop_table("correction_uses")
    op.drop_index("ix_learned_corrections_pair", table_name="learned_corrections")
    op.drop_table("learned_corrections")
