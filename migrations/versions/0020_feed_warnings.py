"""Feeds: last_warning, what a fetch that was read despite a broken document recovered from.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-08 09:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("feeds") as batch:
        batch.add_column(sa.Column("last_warning", sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table("feeds") as batch:
        batch.drop_column("last_warning")
