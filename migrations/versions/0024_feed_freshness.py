"""Feeds: freshness figures (from an item's published date to the API).

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-09 12:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("feeds") as batch:
        batch.add_column(sa.Column("freshness_seconds", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("freshness_items", sa.Integer(), nullable=False, server_default="0")
        )
        batch.create_index("ix_feeds_freshness_seconds", ["freshness_seconds"])


def downgrade():
    with op.batch_alter_table("feeds") as batch:
        batch.drop_index("ix_feeds_freshness_seconds")
        batch.drop_column("freshness_items")
        batch.drop_column("freshness_seconds")
