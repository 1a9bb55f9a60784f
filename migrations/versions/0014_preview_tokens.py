"""Preview tokens: short-lived links to one unpublished article.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 07:30:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "preview_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name="fk_preview_tokens_article_id_articles",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name="fk_preview_tokens_created_by_id_users",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_preview_tokens"),
        sa.UniqueConstraint("token_hash", name="uq_preview_tokens_token_hash"),
    )
    op.create_index("ix_preview_tokens_article_id", "preview_tokens", ["article_id"])


def downgrade():
    op.drop_index("ix_preview_tokens_article_id", table_name="preview_tokens")
    op.drop_table("preview_tokens")
