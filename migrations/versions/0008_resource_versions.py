"""Version counters on every editable resource (atomic If-Match), filled in by issue 10.

Each UPDATE and DELETE of these rows says `WHERE version = <the version read>`, as
articles' always did: the later of two writers holding one ETag gets a 412.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24 03:50:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

VERSIONED_TABLES = (
    "tags",
    "categories",
    "authors",
    "publications",
    "pages",
    "images",
    "users",
    "feeds",
)


def upgrade():
    for table in VERSIONED_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("version", sa.Integer(), server_default="1", nullable=False)
            )


def downgrade():
    for table in reversed(VERSIONED_TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("version")
