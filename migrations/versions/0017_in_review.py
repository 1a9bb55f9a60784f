"""Articles: the in_review status (a contributor's draft submitted for review).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 09:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

OLD = ("draft", "scheduled", "published", "archived")
NEW = ("draft", "in_review", "scheduled", "published", "archived")


def _status(values):
    return sa.Enum(
        *values, name="article_status", native_enum=False, create_constraint=True, length=16
    )


def _change(old, new):
    if op.get_bind().dialect.name == "sqlite":  # a CHECK changes with the table, copied
        with op.batch_alter_table("articles", recreate="always") as batch:
            batch.alter_column(
                "status", existing_type=_status(old), type_=_status(new), existing_nullable=False
            )
        return
    op.drop_constraint(op.f("ck_articles_article_status"), "articles", type_="check")
    listed = ", ".join(f"'{value}'" for value in new)
    op.create_check_constraint("article_status", "articles", f"status IN ({listed})")


def upgrade():
    _change(OLD, NEW)


def downgrade():
    op.execute("UPDATE articles SET status = 'draft' WHERE status = 'in_review'")
    _change(NEW, OLD)
