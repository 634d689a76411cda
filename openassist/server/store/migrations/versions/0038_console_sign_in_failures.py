"""Failed console sign-ins kept in the store, so the throttle holds across nodes

Revision ID: 0038
Revises: 0037
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0038"
down_revision = "0037"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "console_sign_in_failures",
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("last_at", sa.BigInteger(), nullable=False),
        sa.Column("locked_until", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_console_sign_in_failures")),
    )
    op.create_index("ix_console_sign_in_failures_last_at", "console_sign_in_failures", ["last_at"])


def downgrade() -> None:
    op.drop_index("ix_console_sign_in_failures_last_at", "console_sign_in_failures")
    op.drop_table("console_sign_in_failures")
