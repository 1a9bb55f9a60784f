"""Articles: unpublish_at, when a published article is archived by itself.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 06:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("articles") as batch:
        batch.add_column(sa.Column("unpublish_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index("ix_articles_unpublish_at", ["unpublish_at"])


def downgrade():
    with op.batch_alter_table("articles") as batch:
        batch.drop_index("ix_articles_unpublish_at")
        batch.drop_column("unpublish_at")
