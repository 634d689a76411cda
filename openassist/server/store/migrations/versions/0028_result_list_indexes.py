"""indexes for listing results by instance and tasks by command

Revision ID: 0028
Revises: 0027
"""

from __future__ import annotations

from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_invocation_instances_instance_id_created_at",
        "invocation_instances",
        ["instance_id", "created_at", "invoke_id", "status", "error_code"],
    )
    op.create_index("ix_invocations_command_id", "invocations", ["command_id"])


def downgrade() -> None:
    op.drop_index("ix_invocations_command_id", table_name="invocations")
    op.drop_index(
        "ix_invocation_instances_instance_id_created_at", table_name="invocation_instances"
    )
