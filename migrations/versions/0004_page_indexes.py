"""Indexes for category and publication pages (ordered lists and their counts).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 23:20:00

"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.drop_index("ix_articles_category_id")
        batch_op.drop_index("ix_articles_publication_id")
        batch_op.create_index(
            "ix_articles_category_status_published", ["category_id", "status", "published_at", "id"]
        )
        batch_op.create_index(
            "ix_articles_publication_status_published",
            ["publication_id", "status", "published_at", "id"],
        )


def downgrade():
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.drop_index("ix_articles_publication_status_published")
        batch_op.drop_index("ix_articles_category_status_published")
        batch_op.create_index("ix_articles_publication_id", ["publication_id"])
        batch_op.create_index("ix_articles_category_id", ["category_id"])
