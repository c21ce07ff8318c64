"""translate_marks: how far the translate stage has looked per language; indexes so a run with
nothing new and the review queue's pages cost the same however much history the store holds

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 21:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "translate_marks",
        sa.Column("lang", sa.String(length=10), primary_key=True),
        sa.Column("planned_through", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    # The extract stage's queue (new, waiting, linked articles due for a re-check).
    op.create_index("ix_posts_status_kind", "posts", ["status", "kind"])
    # Items of current revisions (the queue, the awaiting count): posts found by their revision.
    op.create_index("ix_posts_current_revision_id", "posts", ["current_revision_id"])
    # The review queue, newest first, one page at a time: per state, and across states.
    op.create_index("ix_translations_status_created", "translations", ["status", "created_at", "id"])
    op.create_index("ix_translations_created", "translations", ["created_at", "id"])
    # The queue's counts (per language, of current revisions) read this index alone.
    op.create_index("ix_translations_status_lang_revision", "translations", ["status", "lang", "revision_id"])


def downgrade() -> None:
    op.drop_index("ix_translations_status_lang_revision", table_name="translations")
    op.drop_index("ix_translations_created", table_name="translations")
    op.drop_index("ix_translations_status_created", table_name="translations")
    op.drop_index("ix_posts_current_revision_id", table_name="posts")
    op.drop_index("ix_posts_status_kind", table_name="posts")
    op.drop_table("translate_marks")
