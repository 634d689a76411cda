"""replay marks (nonces, agent request ids) and console revocations, durable across restarts

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "replay_marks",
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_replay_marks")),
    )
    op.create_index("ix_replay_marks_expires_at", "replay_marks", ["expires_at"])
    op.create_table(
        "console_revocations",
        sa.Column("sid", sa.String(64), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("sid", name=op.f("pk_console_revocations")),
    )
    op.create_index("ix_console_revocations_expires_at", "console_revocations", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_console_revocations_expires_at", table_name="console_revocations")
    op.drop_table("console_revocations")
    op.drop_index("ix_replay_marks_expires_at", table_name="replay_marks")
    op.drop_table("replay_marks")
