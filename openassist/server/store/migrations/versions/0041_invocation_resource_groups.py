"""The ResourceGroupId a task was created with, for DescribeInvocations' filter

Revision ID: 0041
Revises: 0040
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0041"
down_revision = "0040"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain column add: a batch rebuild of invocations would drop the triggers of 0036/0037.
    op.add_column(
        "invocations",
        sa.Column("resource_group_id", sa.String(64), nullable=False, server_default=""),
    )


def downgrade() -> None:
    op.drop_column("invocations", "resource_group_id")
