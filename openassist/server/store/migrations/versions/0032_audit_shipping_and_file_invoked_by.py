"""audit events carry whether the sink shipped them; file tasks say who created them

Revision ID: 0032
Revises: 0028
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0032"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_events") as batch:
        batch.add_column(
            sa.Column("shipped", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_index("ix_audit_events_shipped_seq", "audit_events", ["shipped", "seq"])
    with op.batch_alter_table("file_tasks") as batch:
        batch.add_column(sa.Column("invoked_by", sa.String(64), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("file_tasks") as batch:
        batch.drop_column("invoked_by")
    op.drop_index("ix_audit_events_shipped_seq", table_name="audit_events")
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_column("shipped")
