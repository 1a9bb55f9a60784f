"""Feeds: next_fetch_at (the poll cycle's schedule, backoff included) and the feed's own
minimum interval (<ttl>, sy:updatePeriod / sy:updateFrequency).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-09 09:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("feeds") as batch:
        batch.add_column(sa.Column("next_fetch_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("min_interval_minutes", sa.Integer(), nullable=True))
        batch.create_index("ix_feeds_next_fetch_at", ["next_fetch_at"])


def downgrade():
    with op.batch_alter_table("feeds") as batch:
        batch.drop_index("ix_feeds_next_fetch_at")
        batch.drop_column("min_interval_minutes")
        batch.drop_column("next_fetch_at")
