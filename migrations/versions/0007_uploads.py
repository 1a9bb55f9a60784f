"""Uploaded images: processing state, storage folder, focal point, and their renditions.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 00:48:53.789396

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "image_renditions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("image_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("bytes", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["image_id"],
            ["images.id"],
            name=op.f("fk_image_renditions_image_id_images"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_image_renditions")),
    )
    with op.batch_alter_table("image_renditions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_image_renditions_image_id"), ["image_id"], unique=False
        )

    with op.batch_alter_table("images", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "status",
                sa.Enum(
                    "ready",
                    "processing",
                    "failed",
                    name="image_status",
                    native_enum=False,
                    create_constraint=True,
                    length=16,
                ),
                nullable=False,
                server_default="ready",
            )
        )
        batch_op.add_column(sa.Column("storage_prefix", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("source_format", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("source_bytes", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("focal_x", sa.Float(), nullable=False, server_default="0.5"))
        batch_op.add_column(sa.Column("focal_y", sa.Float(), nullable=False, server_default="0.5"))
        batch_op.add_column(sa.Column("error", sa.Text(), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_images_storage_prefix"), ["storage_prefix"]
        )
        batch_op.create_check_constraint(
            "focal_range", "focal_x BETWEEN 0 AND 1 AND focal_y BETWEEN 0 AND 1"
        )


def downgrade():
    with op.batch_alter_table("images", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_images_focal_range"), type_="check")
        # The status enum's own CHECK: SQLite's rebuilt table would keep it, naming a
        # column that is gone.
        batch_op.drop_constraint(batch_op.f("ck_images_image_status"), type_="check")
        batch_op.drop_constraint(batch_op.f("uq_images_storage_prefix"), type_="unique")
        batch_op.drop_column("error")
        batch_op.drop_column("focal_y")
        batch_op.drop_column("focal_x")
        batch_op.drop_column("source_bytes")
        batch_op.drop_column("source_format")
        batch_op.drop_column("storage_prefix")
        batch_op.drop_column("status")

    with op.batch_alter_table("image_renditions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_image_renditions_image_id"))

    op.drop_table("image_renditions")
