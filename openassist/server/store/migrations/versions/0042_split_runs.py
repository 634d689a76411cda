"""Console runs split into several tasks, kept in the store (their page no longer lives only in
its URL)

Revision ID: 0042
Revises: 0041
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0042"
down_revision = "0041"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "split_runs",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("invoked_by", sa.String(64), nullable=False),
        sa.Column("machines", sa.Integer(), nullable=False),
        sa.Column("tasks", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_split_runs"),
    )
    # A plain column add: a batch rebuild of invocations would drop the triggers of 0036/0037.
    op.add_column("invocations", sa.Column("split_run_id", sa.String(64), nullable=True))
    op.create_index("ix_invocations_split_run_id", "invocations", ["split_run_id"])


def downgrade() -> None:
    op.drop_index("ix_invocations_split_run_id", table_name="invocations")
    op.drop_column("invocations", "split_run_id")
    op.drop_table("split_runs")
