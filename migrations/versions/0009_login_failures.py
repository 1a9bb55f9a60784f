"""Wrong password guesses, counted in the database so every worker process sees them.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24 05:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "login_failures",
        sa.Column("guess", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("guess", "key", name=op.f("pk_login_failures")),
    )
    with op.batch_alter_table("login_failures", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_login_failures_expires_at"), ["expires_at"], unique=False
        )
        batch_op.create_index(
            "ix_login_failures_key_expires_at", ["key", "expires_at"], unique=False
        )


def downgrade():
    with op.batch_alter_table("login_failures", schema=None) as batch_op:
        batch_op.drop_index("ix_login_failures_key_expires_at")
        batch_op.drop_index(batch_op.f("ix_login_failures_expires_at"))

    op.drop_table("login_failures")
