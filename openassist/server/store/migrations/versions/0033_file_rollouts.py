"""rollout limits of send-file tasks: MaxConcurrency / MaxErrors / BatchWait / DeliveryDeadline

Revision ID: 0033
Revises: 0032
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("file_tasks", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("max_concurrency", sa.String(16), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("max_errors", sa.String(16), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("batch_wait", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("stop_reason", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(sa.Column("delivery_deadline", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("file_task_instances", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("held", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("released_at", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("deliver_by", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("file_task_instances", schema=None) as batch_op:
        batch_op.drop_column("deliver_by")
        batch_op.drop_column("released_at")
        batch_op.drop_column("held")
    with op.batch_alter_table("file_tasks", schema=None) as batch_op:
        batch_op.drop_column("delivery_deadline")
        batch_op.drop_column("stop_reason")
        batch_op.drop_column("batch_wait")
        batch_op.drop_column("max_errors")
        batch_op.drop_column("max_concurrency")
