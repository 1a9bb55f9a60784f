"""Jobs: how many of a job's runs were lost with their worker.

A lost run (the worker killed, cut off by a deploy, or silent past its lease) is not a
failed attempt: it is run again, with one more attempt, until JOB_LOST_RUNS of them; a
job that keeps taking its worker down then fails.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07 20:20:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(
            sa.Column("lost_runs", sa.SmallInteger(), nullable=False, server_default="0")
        )


def downgrade():
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("lost_runs")
