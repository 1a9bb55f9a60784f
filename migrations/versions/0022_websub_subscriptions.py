"""WebSub subscriptions: one per feed whose document names a hub.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-09 10:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "websub_subscriptions",
        sa.Column("feed_id", sa.Integer(), nullable=False),
        sa.Column("hub_url", sa.String(length=2048), nullable=False),
        sa.Column("topic_url", sa.String(length=2048), nullable=False),
        sa.Column("secret", sa.String(length=100), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "new",
                "requested",
                "verified",
                "denied",
                "failed",
                name="websub_state",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["feed_id"],
            ["feeds.id"],
            name=op.f("fk_websub_subscriptions_feed_id_feeds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("feed_id", name=op.f("pk_websub_subscriptions")),
    )
    op.create_index(
        op.f("ix_websub_subscriptions_expires_at"), "websub_subscriptions", ["expires_at"]
    )


def downgrade():
    op.drop_index(op.f("ix_websub_subscriptions_expires_at"), table_name="websub_subscriptions")
    op.drop_table("websub_subscriptions")
