"""Preview links to one revision of an article.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 09:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("preview_tokens") as batch:
        batch.add_column(sa.Column("revision_number", sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table("preview_tokens") as batch:
        batch.drop_column("revision_number")
