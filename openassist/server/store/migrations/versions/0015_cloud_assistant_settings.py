"""cloud assistant settings

Revision ID: 0015 (was 0012)
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cloud_assistant_settings",
        sa.Column("setting_type", sa.String(64), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("setting_type", name=op.f("pk_cloud_assistant_settings")),
    )


def downgrade() -> None:
    op.drop_table("cloud_assistant_settings")
