"""PostgreSQL: indexes in the order of newest-first lists (DESC NULLS LAST).

A backward scan of an ascending index gives DESC NULLS FIRST, so without these every
newest-first list sorts all its matching rows. SQLite walks its indexes backwards in
the right order already: nothing to do there.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 23:40:00

"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_articles_status_published_desc": "status",
    "ix_articles_category_status_published_desc": "category_id, status",
    "ix_articles_publication_status_published_desc": "publication_id, status",
}


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, leading in INDEXES.items():
        op.execute(
            f"CREATE INDEX {name} ON articles ({leading}, published_at DESC NULLS LAST, id DESC)"
        )


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for name in INDEXES:
        op.execute(f"DROP INDEX {name}")
