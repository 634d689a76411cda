"""invocation containers

Revision ID: 0017 (was 0010)
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("invocations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("container_id", sa.String(length=128), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("container_name", sa.String(length=255), server_default="", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("invocations", schema=None) as batch_op:
        batch_op.drop_column("container_name")
        batch_op.drop_column("container_id")
