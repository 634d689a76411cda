"""Resource groups: an activation's ResourceGroupId, carried by the instances it registers

Revision ID: 0040
Revises: 0039
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0040"
down_revision = "0039"
branch_labels = None
depends_on = None

_TABLES = ("activations", "instances")


def upgrade() -> None:
    for table in _TABLES:
        op.add_column(
            table,
            sa.Column("resource_group_id", sa.String(64), nullable=False, server_default=""),
        )


def downgrade() -> None:
    for table in _TABLES:
        op.drop_column(table, "resource_group_id")
