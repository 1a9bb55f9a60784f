"""Articles: the trash (trashed_at) and the slugs they had (article_slugs).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 07:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("articles") as batch:
        batch.add_column(sa.Column("trashed_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index("ix_articles_trashed_at", ["trashed_at"])
    op.create_table(
        "article_slugs",
        sa.Column("slug", sa.String(length=200), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name="fk_article_slugs_article_id_articles",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("slug", name="pk_article_slugs"),
    )
    op.create_index("ix_article_slugs_article_id", "article_slugs", ["article_id"])


def downgrade():
    op.drop_index("ix_article_slugs_article_id", table_name="article_slugs")
    op.drop_table("article_slugs")
    with op.batch_alter_table("articles") as batch:
        batch.drop_index("ix_articles_trashed_at")
        batch.drop_column("trashed_at")
