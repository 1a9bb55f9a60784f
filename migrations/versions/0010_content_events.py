"""Content events: the outbox every content write records into, in its transaction.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 20:30:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "content_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=60), nullable=False),
        sa.Column("resource", sa.String(length=40), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=60), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed", sa.JSON(), nullable=False),
        sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_events")),
    )
    with op.batch_alter_table("content_events", schema=None) as batch_op:
        batch_op.create_index("ix_content_events_pending", ["dispatched_at", "id"], unique=False)


def downgrade():
    with op.batch_alter_table("content_events", schema=None) as batch_op:
        batch_op.drop_index("ix_content_events_pending")
    op.drop_table("content_events")
