"""agent capabilities and running tasks from heartbeats

Revision ID: 0016 (was 0013)
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("instances") as batch:
        batch.add_column(
            sa.Column("agent_capabilities", sa.String(512), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("running_tasks", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("instances") as batch:
        batch.drop_column("running_tasks")
        batch.drop_column("agent_capabilities")
