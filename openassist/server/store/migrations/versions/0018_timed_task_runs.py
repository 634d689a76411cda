"""timed task runs and invoke versions

Revision ID: 0018 (was 0007)
Revises: 0017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "invocation_runs",
        sa.Column("invoke_id", sa.String(length=64), nullable=False),
        sa.Column("instance_id", sa.String(length=64), nullable=False),
        sa.Column("start_at", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error_code", sa.String(length=64), nullable=False),
        sa.Column("error_info", sa.Text(), nullable=False),
        sa.Column("exit_code", sa.Integer(), nullable=True),
        sa.Column("output", sa.LargeBinary(), nullable=False),
        sa.Column("dropped", sa.BigInteger(), nullable=False),
        sa.Column("finish_at", sa.BigInteger(), nullable=True),
        sa.Column("run_number", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["invoke_id"], ["invocations.id"]),
        sa.PrimaryKeyConstraint("invoke_id", "instance_id", "start_at"),
    )
    with op.batch_alter_table("invocations") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("invocations") as batch:
        batch.drop_column("version")
    op.drop_table("invocation_runs")
