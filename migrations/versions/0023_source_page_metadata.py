"""Source copies: the page's own title, author, date and language (trafilatura).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-09 11:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("source_copies") as batch:
        batch.add_column(sa.Column("title", sa.String(length=500), nullable=True))
        batch.add_column(sa.Column("author", sa.String(length=300), nullable=True))
        batch.add_column(sa.Column("published_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("language", sa.String(length=35), nullable=True))


def downgrade():
    with op.batch_alter_table("source_copies") as batch:
        batch.drop_column("language")
        batch.drop_column("published_on")
        batch.drop_column("author")
        batch.drop_column("title")
