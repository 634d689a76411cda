"""task status_counts: per-instance rows counted by status, moved with each row's change

Revision ID: 0035
Revises: 0033
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0035"
down_revision = "0033"
branch_labels = None
depends_on = None

_TABLES = ("invocations", "file_tasks")


def upgrade() -> None:
    # No backfill: a task without counts is counted at its next change (proposals.apply_event).
    for table in _TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("status_counts", sa.Text(), nullable=True))


def downgrade() -> None:
    for table in _TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("status_counts")
