"""a Period task with rollout limits is fired by the server, each fire a rollout of its own

Revision ID: 0039
Revises: 0038
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0039"
down_revision = "0038"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("invocations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fires", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("fired_at", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("invocation_instances", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fire", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("invocation_instances", schema=None) as batch_op:
        batch_op.drop_column("fire")
    with op.batch_alter_table("invocations", schema=None) as batch_op:
        batch_op.drop_column("fired_at")
        batch_op.drop_column("fires")
