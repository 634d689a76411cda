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
    # ALTER TABLE ... DROP COLUMN in place (SQLite 3.35+), not a batch rebuild: a rebuild drops
    # the result tallies' triggers on these tables (0036, 0037) and trips their foreign keys.
    op.drop_column("invocation_instances", "fire")
    op.drop_column("invocations", "fired_at")
    op.drop_column("invocations", "fires")
