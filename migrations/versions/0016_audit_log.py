"""The audit log, fed by the outbox.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 08:30:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=60), nullable=True),
        sa.Column("type", sa.String(length=60), nullable=False),
        sa.Column("resource", sa.String(length=40), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("changed", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
        sa.UniqueConstraint("event_id", name="uq_audit_log_event_id"),
    )
    op.create_index("ix_audit_log_occurred_at", "audit_log", ["occurred_at", "id"])
    op.create_index("ix_audit_log_resource", "audit_log", ["resource", "resource_id"])
    op.create_index("ix_audit_log_actor", "audit_log", ["actor"])


def downgrade():
    op.drop_table("audit_log")
